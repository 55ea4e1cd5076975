"""Reporting: the notebook series tooling, the evaluation report, and shared plot helpers.

A notebook names what it reports with ``record(name, value)`` (a DataFrame, a plotly figure or a number); the
report, ``results.json`` and the committed full-size results read it back by name with ``records(nb)``.

- ``series``: naming, navigation, hygiene and the command line (``python -m genlab.report.series report --out DIR``)
- ``build``: execute notebooks (papermill), then write ``report.html`` and ``results.json``; the stderr noise check
- ``recording``: ``record`` and ``records``: results stored with a cell's output under a genlab mimetype
- ``extract``: what else an executed notebook shows (checkpoints, parameters, limitations, stderr, errors)
- ``render``: the self-contained HTML page (plotly.js embedded once, all notebook text escaped)
- ``results``: the versioned ``results.json`` schema and the run's provenance
- ``full``: the full-size runs (``make report-full``): parameters, resumable execution, committed results
- ``compare``: two runs side by side, and the paired verdicts the notebooks computed
- ``mask``: canary secrets and planted personal data masked in everything a report shows
- ``plots``: small plotly helpers shared by genlab's figures
"""

from genlab.report.recording import record, records

__all__ = ["record", "records"]
