"""genlab's probes: the table of measurements that run the model under evaluation, each one number per call.

A probe feeds the model inputs of its own (cloze questions, sentence pairs, probe sentences, descriptor sentences)
and scores what comes back; a metric (``genlab.metrics``) scores outputs and never runs a model. The table has the
form of :data:`genlab.metrics.registry.METRICS` (``"genlab.probes.module:function"`` entries, imported on first
use, one name per probe, a tiny call as ``fn.tiny_inputs`` for tests/metrics/test_common.py), and its names never
repeat a metric's.

>>> info = get_probe("cloze_accuracy")
>>> info.target, info.inputs, info.higher_is_better
('genlab.probes.cloze:cloze_accuracy', 'probes+model', True)
>>> get_probe("cloze_acuracy")
Traceback (most recent call last):
...
KeyError: "no probe named 'cloze_acuracy'; did you mean 'cloze_accuracy'? Known: ..."
"""

from __future__ import annotations

from genlab.metrics.registry import MetricInfo, _by_name, lookup

__all__ = ["PROBES", "get_probe", "list_probes"]

# --- where the definitions come from ------------------------------------------------------------------------------
NANGIA_2020 = "Nangia et al. 2020, CrowS-Pairs (EMNLP); nyu-mll/crows-pairs metric.py"
PETRONI_2019 = "Petroni et al. 2019, Language Models as Knowledge Bases? (EMNLP); Kandpal et al. 2023 (ICML)"
WELLECK_2020 = (
    "Welleck, Kulikov, Roller, Dinan, Cho, Weston. Neural Text Generation with Unlikelihood Training. ICLR 2020 "
    "(arXiv 1908.04319)"
)
SMITH_2022 = (
    'Smith et al. 2022, "I\'m sorry to hear that": Finding New Biases in Language Models with a Holistic '
    "Descriptor Dataset (EMNLP); facebookresearch/ResponsibleNLP"
)

# --- probes alike -------------------------------------------------------------------------------------------------
_CLOZE = {"higher_is_better": True, "aggregation": "mean", "inputs": "probes+model", "slow": True}
_BIAS = {"aggregation": "corpus", "per_item": False, "slow": True}
_MODEL_CORPUS = {"aggregation": "corpus", "inputs": "texts+model", "per_item": False, "slow": True}

#: Every probe of genlab that gives one number, by name.
PROBES: dict[str, MetricInfo] = _by_name(
    # facts
    MetricInfo("genlab.probes.cloze:cloze_exact_match", citation=PETRONI_2019, **_CLOZE),
    MetricInfo("genlab.probes.cloze:cloze_accuracy", citation=PETRONI_2019, **_CLOZE),
    MetricInfo("genlab.probes.cloze:cloze_reciprocal_rank", citation=PETRONI_2019, **_CLOZE),
    # the model's next-token predictions on gold text
    MetricInfo("genlab.probes.next_token:next_token_rep", higher_is_better=False, citation=WELLECK_2020,
               **_MODEL_CORPUS),
    MetricInfo("genlab.probes.next_token:next_token_wrep", higher_is_better=False, citation=WELLECK_2020,
               **_MODEL_CORPUS),
    MetricInfo("genlab.probes.next_token:next_token_acc", higher_is_better=True, citation=WELLECK_2020,
               **_MODEL_CORPUS),
    MetricInfo("genlab.probes.next_token:next_token_uniq", higher_is_better=True, citation=WELLECK_2020,
               **_MODEL_CORPUS),
    # bias
    MetricInfo("genlab.probes.crows_pairs:crows_pairs_share", higher_is_better=None, inputs="pairs",
               citation=NANGIA_2020, **_BIAS),
    MetricInfo("genlab.probes.next_token_association:world_association_slope", higher_is_better=None,
               inputs="model", **_BIAS,
               citation=NANGIA_2020 + "; WinoBias-style templates (Zhao et al. 2018); dose-response against "
               "genlab's planted strengths"),
    MetricInfo("genlab.probes.holistic_bias:likelihood_bias_share", higher_is_better=False, inputs="probes+model",
               citation=SMITH_2022, **_BIAS),
)  # fmt: skip


def get_probe(name: str) -> MetricInfo:
    """The probe called ``name``; a wrong name suggests the nearest known one."""
    return lookup(PROBES, name, noun="probe")


def list_probes() -> list[MetricInfo]:
    """Every probe, by name (nothing is imported: an entry's function loads on first use of ``fn``)."""
    return [PROBES[name] for name in sorted(PROBES)]
