"""genlab's metrics: one table of plain functions with the metadata that gives each number its meaning.

Each entry names its function as ``"genlab.metrics.module:function"`` and says which direction is better, how
per-item scores aggregate, what input the function needs, where the definition comes from, and whether it needs a
model (``slow``). The function is imported on first use (:attr:`MetricInfo.fn`), so reading the table, and importing
``genlab.metrics`` or one metric module, imports no other metric module (after lm-evaluation-harness's lazy
registry, whose placeholders are ``"module:object"`` strings).

A metric has one name: the registry's name *is* its function's name, the part of the entry after the colon.
tests/metrics/test_registry.py resolves every entry and checks that the table agrees with its function (name, inputs,
per-item results).

>>> info = get_metric("self_bleu")
>>> info.target, info.higher_is_better, info.aggregation, info.per_item
('genlab.metrics.self_bleu:self_bleu', False, 'mean', True)
>>> info.fn(["a b c d", "a b c d", "e f g h"], max_n=2)
[1.0, 1.0, 0.0]
>>> get_metric("self_bleu4")
Traceback (most recent call last):
...
KeyError: "no metric named 'self_bleu4'; did you mean 'self_bleu'? Known: ..."

A new metric is a function in a module of ``genlab.metrics`` and a line in :data:`METRICS`; metrics alike share their
keywords through a dict (``_MODEL_CORPUS``). Slow metrics declare a tiny call for the common test
(tests/metrics/test_common.py) as an attribute of the function, ``fn.tiny_inputs``: a callable that takes a small
model bundle and returns ``(args, kwargs)`` for a call of a few seconds.

Measurements that run the model under evaluation on inputs of their own (cloze probes, sentence pairs, next-token
associations, descriptor likelihoods, next-token predictions on gold text) are probes, a layer above: their table,
in the same form, is ``genlab.probes.registry``. Every entry here points into ``genlab.metrics`` (tests/test_layout.py
checks it).
"""

from __future__ import annotations

import difflib
import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Aggregation = Literal["mean", "corpus", "ratio", "max", "none"]
Inputs = Literal[
    "texts",
    "texts+model",
    "model",
    "predictions+references",
    "prefixes+continuations",
    "features",
    "pairs",
    "probes+model",
]


@dataclass(frozen=True)
class MetricInfo:
    target: str  # "genlab.metrics.module:function": where the function is; imported on first use of ``fn``
    higher_is_better: bool | None  # None: neither (e.g. a Zipf coefficient, judged against human text)
    aggregation: Aggregation  # how per-item scores combine; "corpus": the function returns one corpus value
    inputs: Inputs
    citation: str
    per_item: bool = True  # True: the function returns one score per input item
    slow: bool = False  # needs a model or an embedder; the common test runs it only on tiny inputs

    @property
    def name(self) -> str:
        """The metric's name: its function's."""
        return self.target.rpartition(":")[2]

    @functools.cached_property
    def fn(self) -> Callable:
        """The function, imported on first use."""
        module, _, attr = self.target.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as err:
            raise ImportError(
                f"metric {self.name!r} ({self.target}) cannot be loaded: {err}. If a package is missing, install "
                "genlab's dependencies (`pip install -e .` in the repository) and try again."
            ) from err

    @property
    def description(self) -> str:
        return (self.fn.__doc__ or "").strip().split("\n")[0]


# --- where the definitions come from ------------------------------------------------------------------------------
BLEU = "Papineni et al. 2002, BLEU; Post 2018, A Call for Clarity in Reporting BLEU Scores (sacrebleu)"
CARLINI_2021 = (
    "Carlini et al. 2021, Extracting Training Data from Large Language Models (USENIX Security); "
    "ftramer/LM_Memorization extraction.py"
)
CHRF = "Popović 2015, chrF: character n-gram F-score for automatic MT evaluation (via sacrebleu)"
HOLTZMAN_2020 = (
    "Holtzman, Buys, Du, Forbes, Choi. The Curious Case of Neural Text Degeneration. ICLR 2020 (arXiv 1904.09751); "
    "authors' code ari-holtzman/degen metrics/"
)
LI_2016 = (
    "Li, Galley, Brockett, Gao, Dolan. A Diversity-Promoting Objective Function for Neural Conversation Models. "
    "NAACL 2016 (arXiv 1510.03055)"
)
MAUVE = (
    "Pillutla, Swayamdipta, Zellers, Thickstun, Welleck, Choi, Harchaoui 2021, MAUVE: Measuring the Gap "
    "Between Neural Text and Human Text using Divergence Frontiers"
)
ROUGE = "Lin 2004, ROUGE: A Package for Automatic Evaluation of Summaries (via Google's rouge-score)"
SHAIB_2024 = (
    "Shaib, Barrow, Sun, Siu, Wallace, Nenkova. Standardizing the Measurement of Text Diversity: A Tool and a "
    "Comparative Analysis of Scores. 2024 (arXiv 2403.00553); package cshaib/diversity"
)
SU_2022 = (
    "Su, Lan, Wang, Yogatama, Kong, Collier. A Contrastive Framework for Neural Text Generation. NeurIPS 2022 "
    "(arXiv 2202.06417); authors' code yxuansu/SimCTG simctg/evaluation.py"
)
WELLECK_2020 = (
    "Welleck, Kulikov, Roller, Dinan, Cho, Weston. Neural Text Generation with Unlikelihood Training. ICLR 2020 "
    "(arXiv 1908.04319)"
)
WER = (
    "Morris, Maier & Green 2004, From WER and RIL to MER and WIL: improved evaluation measures for connected speech "
    "recognition (Interspeech); Levenshtein 1966; computed by jiwer"
)
ZHU_2018 = (
    "Zhu, Lu, Zheng, Guo, Zhang, Wang, Yu. Texygen: A Benchmarking Platform for Text Generation Models. "
    "SIGIR 2018 (arXiv 1802.01886); Holtzman et al. 2020 use gram=4 (ari-holtzman/degen metrics/self_bleu.py)"
)

# --- metrics alike ------------------------------------------------------------------------------------------------
_PER_TEXT = {"aggregation": "mean", "inputs": "texts"}  # one score per text, averaged
_CORPUS_TEXTS = {"aggregation": "corpus", "inputs": "texts", "per_item": False}  # one value for all the texts
_PER_PAIR = {"aggregation": "mean", "inputs": "predictions+references"}  # one score per prediction, averaged
_CORPUS_PAIRS = {"aggregation": "corpus", "inputs": "predictions+references", "per_item": False}
_MODEL_CORPUS = {"aggregation": "corpus", "inputs": "texts+model", "per_item": False, "slow": True}


def _by_name(*entries: MetricInfo) -> dict[str, MetricInfo]:
    table: dict[str, MetricInfo] = {}
    for info in entries:
        if info.name in table:
            raise ValueError(f"two metrics are named {info.name!r}: {table[info.name].target} and {info.target}")
        table[info.name] = info
    return table


#: Every metric of genlab, by name.
METRICS: dict[str, MetricInfo] = _by_name(
    # repetition and diversity of generated text
    MetricInfo("genlab.metrics.repetition:distinct_n", higher_is_better=True, citation=LI_2016, **_PER_TEXT),
    MetricInfo("genlab.metrics.repetition:distinct_n_corpus", higher_is_better=True, citation=LI_2016,
               **_CORPUS_TEXTS),
    MetricInfo("genlab.metrics.repetition:seq_rep_n", higher_is_better=False, citation=WELLECK_2020, **_PER_TEXT),
    MetricInfo("genlab.metrics.repetition:rep_n", higher_is_better=False, citation=SU_2022, **_CORPUS_TEXTS),
    MetricInfo("genlab.metrics.repetition:diversity", higher_is_better=True, citation=SU_2022, **_CORPUS_TEXTS),
    MetricInfo("genlab.metrics.repetition:end_repetition", higher_is_better=False, citation=HOLTZMAN_2020,
               **_PER_TEXT),
    MetricInfo("genlab.metrics.repetition:end_repetition_rate", higher_is_better=False, citation=HOLTZMAN_2020,
               **_CORPUS_TEXTS),
    MetricInfo("genlab.metrics.repetition:zipf_coefficient", higher_is_better=None, citation=HOLTZMAN_2020,
               **_CORPUS_TEXTS),
    MetricInfo("genlab.metrics.repetition:compression_ratio", higher_is_better=False, citation=SHAIB_2024,
               **_PER_TEXT),
    MetricInfo("genlab.metrics.repetition:compression_ratio_corpus", higher_is_better=False, citation=SHAIB_2024,
               **_CORPUS_TEXTS),
    MetricInfo("genlab.metrics.self_bleu:self_bleu", higher_is_better=False, citation=ZHU_2018, **_PER_TEXT),
    # against references
    MetricInfo("genlab.metrics.reference:sentence_bleu", higher_is_better=True, citation=BLEU, **_PER_PAIR),
    MetricInfo("genlab.metrics.reference:corpus_bleu", higher_is_better=True, citation=BLEU, **_CORPUS_PAIRS),
    MetricInfo("genlab.metrics.reference:chrf", higher_is_better=True, citation=CHRF, **_PER_PAIR),
    MetricInfo("genlab.metrics.reference:corpus_chrf", higher_is_better=True, citation=CHRF, **_CORPUS_PAIRS),
    MetricInfo("genlab.metrics.reference:rouge1", higher_is_better=True, citation=ROUGE, **_PER_PAIR),
    MetricInfo("genlab.metrics.reference:rouge2", higher_is_better=True, citation=ROUGE, **_PER_PAIR),
    MetricInfo("genlab.metrics.reference:rougeL", higher_is_better=True, citation=ROUGE, **_PER_PAIR),
    MetricInfo("genlab.metrics.speech:wer", higher_is_better=False, citation=WER, **_CORPUS_PAIRS),
    MetricInfo("genlab.metrics.speech:cer", higher_is_better=False, citation=WER, **_CORPUS_PAIRS),
    MetricInfo("genlab.metrics.mauve:mauve_score", higher_is_better=True, citation=MAUVE, slow=True,
               **_CORPUS_PAIRS),
    # with a model or an embedder
    MetricInfo("genlab.metrics.perplexity:corpus_perplexity", higher_is_better=False, **_MODEL_CORPUS,
               citation="Jelinek et al. 1977; strided evaluation: Hugging Face, 'Perplexity of fixed-length models'"),
    MetricInfo("genlab.metrics.coherence:coherence", higher_is_better=True, aggregation="mean",
               inputs="prefixes+continuations", slow=True,
               citation="Su et al. 2022, A Contrastive Framework for Neural Text Generation (SimCTG), §5.1; "
               "embeddings: all-MiniLM-L6-v2 instead of SimCSE"),
    MetricInfo("genlab.metrics.coherence:coherence_logprob", higher_is_better=True, aggregation="mean",
               inputs="prefixes+continuations", slow=True,
               citation="Su & Xu 2022, An Empirical Study on Contrastive Search and Contrastive Decoding"),
    # facts (the cloze probes, which run the model, are in genlab.probes.registry)
    MetricInfo("genlab.metrics.hallucination:hallucination_rate", higher_is_better=False, **_CORPUS_TEXTS,
               citation="Contradicted / all claims against the world; cf. FActScore, Min et al. 2023 (EMNLP)"),
    # safety and privacy
    MetricInfo("genlab.metrics.offensive:offensive_probability", higher_is_better=False, **_PER_TEXT,
               citation="Zhou. Building a Better Profanity Detection Library with scikit-learn. 2019 (package "
               "profanity-check); maintained as alt-profanity-check by Kotoglou and Mistriotis"),
    MetricInfo("genlab.metrics.planted:world_insult", higher_is_better=False, **_PER_TEXT,
               citation="genlab.worlds.text_pii.insult_sentence: the five insult phrases the corpus generator "
               "plants"),
    MetricInfo("genlab.metrics.pii_patterns:pii_pattern_matches", higher_is_better=False, **_PER_TEXT,
               citation="genlab's own patterns for the formats of genlab.worlds.text_pii (see the module's "
               "Limitations)"),
    MetricInfo("genlab.metrics.zlib_entropy:zlib_entropy", higher_is_better=None, citation=CARLINI_2021,
               **_PER_TEXT),
)  # fmt: skip


def lookup(table: dict[str, MetricInfo], name: str, noun: str = "metric") -> MetricInfo:
    """``table[name]``; a wrong name is a KeyError that suggests the nearest known one (this registry's and the
    probes' lookups)."""
    if name in table:
        return table[name]
    near = difflib.get_close_matches(name, list(table), n=1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    raise KeyError(f"no {noun} named {name!r}{hint} Known: {', '.join(sorted(table))}")


def get_metric(name: str) -> MetricInfo:
    """The metric called ``name``; a wrong name suggests the nearest known one."""
    return lookup(METRICS, name)


def list_metrics() -> list[MetricInfo]:
    """Every metric, by name (nothing is imported: an entry's function loads on first use of ``fn``)."""
    return [METRICS[name] for name in sorted(METRICS)]
