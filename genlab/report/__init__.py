"""Reporting: the notebook series tooling, the evaluation report, and shared plot helpers.

- ``series``: naming, navigation, hygiene and the command line (``python -m genlab.report.series report --out DIR``)
- ``build``: execute notebooks, then write ``report.html`` and ``results.json``; the stderr noise check
- ``extract``: what an executed notebook shows (figures, tables, checkpoints, parameters, limitations, stderr)
- ``tables``: pandas' HTML and Series text read back into rows and records
- ``render``: the self-contained HTML page (plotly.js embedded once, all notebook text escaped)
- ``results``: the versioned ``results.json`` schema and the run's provenance
- ``full``: the full-size runs (``make report-full``): parameters, resumable execution, committed results
- ``compare``: two runs side by side, and the paired verdicts the notebooks computed
- ``mask``: canary secrets and planted personal data masked in everything a report shows
- ``plots``: small plotly helpers shared by genlab's figures
"""
