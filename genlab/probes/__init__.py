"""genlab's probes: what runs the model under evaluation to probe it, one published method per module.

A probe feeds the model inputs of its own and scores what comes back with ``genlab.metrics``: sentence pairs
(:mod:`~genlab.probes.crows_pairs`, Nangia et al. 2020), next-token associations
(:mod:`~genlab.probes.next_token_association`), next-token predictions on gold text (:mod:`~genlab.probes.next_token`,
Welleck et al. 2020), generation gaps (:mod:`~genlab.probes.bold`, Dhamala et al. 2021),
descriptor likelihoods (:mod:`~genlab.probes.holistic_bias`, Smith et al. 2022), cloze questions with the
name-swap control (:mod:`~genlab.probes.cloze`, Petroni et al. 2019), red-teaming (:mod:`~genlab.probes.red_team`),
canary exposure (:mod:`~genlab.probes.exposure`, Carlini et al. 2019) and training-data extraction
(:mod:`~genlab.probes.extraction`, Carlini et al. 2021). They score a ``Bundle`` or any
:class:`~genlab.probes.continuation_model.ContinuationModel`.

Importing the package imports the probe table (:mod:`genlab.probes.registry`) and nothing else.

>>> from genlab.probes import get_probe
>>> get_probe("crows_pairs_share").inputs
'pairs'
"""

from genlab.probes.registry import PROBES, get_probe, list_probes

__all__ = ["PROBES", "get_probe", "list_probes"]
