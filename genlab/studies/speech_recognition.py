"""The speech study of notebook 60: who the recogniser mishears, how noise hurts it, and whether self-supervised
pretraining helps when labels are few.

- :func:`word_error_items`: per-utterance scores (the ratio's linearisation) whose mean is the corpus WER and whose
  spread is the WER's, which lets the run-and-item machinery of :mod:`genlab.studies.replicated` compare WERs of
  replicated training runs scored on the same utterances.
- :func:`noise_robustness`: WER and CER of one model on the same utterances with white noise added at known
  signal-to-noise ratios, each condition against the clean audio (paired bootstrap over utterances), the levels as
  one Holm family.
- :func:`pretraining_comparison`: the article's recipe for speech, wav2vec 2.0 contrastive pretraining on unlabelled
  audio followed by CTC fine-tuning on a small labelled share (Baevski et al. 2020), against CTC training from
  scratch on the same labelled share, one training run per arm and seed, every run scored on the same utterances.
  Its table feeds :func:`genlab.studies.replicated.arm_intervals` and
  :func:`genlab.studies.replicated.replicated_tests`.

>>> refs = ["the cat sat", "a dog ran home"]
>>> items = word_error_items(["the cat sit", "a dog home"], refs)
>>> round(float(items.mean()), 4)  # corpus WER: 2 errors in 7 words
0.2857

**Limitations.** The noise is white Gaussian noise at a fixed utterance-level SNR: real noise is coloured, varies in
time and comes with reverberation, so the curve shows the method, not a model's robustness to real rooms. The
pretraining comparison runs at one small scale (a tiny model, minutes of pretraining, synthetic voices); Baevski et
al.'s gains came from 95M- and 317M-parameter models pretrained on 960 to 53k hours of unlabelled speech, so a null
result here says nothing about that regime, and a positive one does not size it. Both arms are fine-tuned with the
from-scratch recipe (AdamW at ``learning_rate``, nothing frozen); Baevski et al. fine-tune with the feature encoder
frozen, a lower learning rate and the transformer frozen at first, which protects what pretraining learnt.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "PretrainingStudy",
    "labelled_subset",
    "noise_robustness",
    "noisy_copy",
    "plot_error_rates",
    "plot_noise_robustness",
    "plot_pretraining_curves",
    "pretraining_comparison",
    "word_error_items",
]

SSL_CITATION = "Baevski, Zhou, Mohamed & Auli 2020, wav2vec 2.0 (NeurIPS), arXiv:2006.11477"
CLEAN = "clean"


def word_error_items(predictions: Sequence[str], references: Sequence[str], *, normalize: bool = True) -> np.ndarray:
    """Per-utterance scores whose mean is the corpus WER R = sum(e) / sum(l) and whose spread is the ratio's: the
    linearised items z_i = R + (e_i - R l_i) n / N (e_i word edits, l_i reference words, n utterances, N = sum(l)),
    the influence values of the ratio (Efron & Tibshirani 1993, 21.3; the delta method). Their mean is exactly R, two
    systems on the same references differ in mean exactly by their difference in corpus WER, and resampling them
    gives about the interval of a bootstrap of the ratio itself (:func:`genlab.metrics.speech.error_rate_ci`), so
    the run-and-item machinery of :mod:`genlab.studies.replicated` can compare WERs of replicated training runs.
    (Scaled edits e_i n / N alone would have the right mean but would count the varying utterance lengths as error
    noise: 30 empty transcripts, WER 1.0, would get an interval of about [0.8, 1.2].)

    >>> z = word_error_items(["a b", "c"], ["a b", "c d e"])  # 2 deletions in 5 words: WER 0.4
    >>> z.round(4).tolist(), round(float(z.mean()), 4)
    ([0.08, 0.72], 0.4)
    >>> word_error_items(["", ""], ["a b", "c d e"]).tolist()  # nothing heard: every item is the WER, 1.0
    [1.0, 1.0]
    """
    from genlab.metrics.speech import utterance_errors

    errors = utterance_errors(predictions, references, normalize=normalize)
    edits, length = errors["word_edits"].to_numpy(dtype=float), errors["n_words"].to_numpy(dtype=float)
    total = length.sum()
    if total == 0:
        raise ValueError("the references hold no words, so the error rate is undefined (0 / 0)")
    rate = edits.sum() / total
    return rate + (edits - rate * length) * len(edits) / total


def _audio(dataset) -> list[np.ndarray]:
    return [np.asarray(a, dtype=np.float32) for a in dataset.with_format("numpy", columns=["audio"])["audio"]]


def noisy_copy(audio: Sequence[np.ndarray], snr_db: float, seed: int = 0) -> list[np.ndarray]:
    """Every utterance with white noise at ``snr_db`` (:func:`genlab.data.speech_world.add_noise`); utterance ``i``
    draws its noise with seed ``seed + i``, so every SNR level uses the same noise, rescaled (common random numbers:
    the levels differ only in the noise's power)."""
    from genlab.data.speech_world import add_noise

    return [add_noise(x, snr_db, seed=seed + i) for i, x in enumerate(audio)]


def noise_robustness(
    bundle,
    dataset,
    snrs_db: Sequence[float] = (20.0, 10.0, 5.0, 0.0),
    *,
    seed: int = 0,
    n_resamples: int = 2000,
    correction: str = "holm",
    batch_size: int = 16,
) -> pd.DataFrame:
    """WER and CER of ``bundle`` on ``dataset`` (a spoken world: ``audio`` and ``text``) clean and at every SNR in
    ``snrs_db``, the same utterances and the same (rescaled) noise at each level.

    One row per condition: ``condition`` ("clean" or "20 dB"), ``snr_db`` (NaN when clean), ``n``, ``wer``,
    ``wer_low``, ``wer_high``, ``cer``, ``cer_low``, ``cer_high`` (95% percentile bootstrap over utterances,
    :func:`genlab.metrics.speech.error_rate_ci`), and for the noisy rows the WER difference to clean with its paired
    bootstrap interval and p-value (:func:`genlab.metrics.speech.paired_error_rate`), the p-values adjusted over the
    noisy levels as one family (``family``, ``family_size``, ``correction``, ``p_adjusted``). ``attrs["transcripts"]``
    holds every transcript (one column per condition).
    """
    from genlab.metrics.multiplicity import adjust_family
    from genlab.metrics.speech import error_rate_ci, paired_error_rate

    snrs = [float(s) for s in snrs_db]
    if not snrs or not all(np.isfinite(s) for s in snrs) or len(set(snrs)) != len(snrs):
        raise ValueError(f"snrs_db must list distinct finite decibel values, e.g. (20, 10, 5, 0); got {snrs_db!r}")
    refs = list(dataset["text"])
    clean_audio = _audio(dataset)
    transcripts = {CLEAN: bundle.transcribe(clean_audio, batch_size=batch_size)}
    for snr in snrs:
        transcripts[f"{snr:g} dB"] = bundle.transcribe(noisy_copy(clean_audio, snr, seed), batch_size=batch_size)
    rows = []
    for (condition, hyps), snr in zip(transcripts.items(), [np.nan, *snrs], strict=True):
        row: dict = {"condition": condition, "snr_db": snr, "n": len(refs)}
        for unit, key in (("word", "wer"), ("char", "cer")):
            ci = error_rate_ci(hyps, refs, unit=unit, n_resamples=n_resamples, seed=seed)
            row |= {key: ci.estimate, f"{key}_low": ci.low, f"{key}_high": ci.high}
        if condition != CLEAN:
            d = paired_error_rate(hyps, transcripts[CLEAN], refs, n_resamples=n_resamples, seed=seed)
            row |= {"difference": d.difference, "difference_low": d.low, "difference_high": d.high,
                    "p_value": d.p_value}  # fmt: skip
        rows.append(row)
    table = pd.DataFrame(rows)
    noisy = table.condition != CLEAN
    tests = adjust_family(table.loc[noisy, ["p_value"]], family_col=None, method=correction,
                          family="noise levels vs clean audio (WER)")  # fmt: skip
    table = table.join(tests[["p_adjusted"]])
    table.loc[noisy, "family"], table.loc[noisy, "family_size"] = tests.family.iloc[0], int(noisy.sum())
    table.loc[noisy, "correction"] = correction  # the clean row is the reference, not a test: NaN there
    table.attrs["transcripts"] = pd.DataFrame({"reference": refs, **transcripts})
    return table


def _wer_bars(rows: pd.DataFrame) -> dict:
    """plotly ``error_y`` of the rows' WER intervals (``wer_low`` to ``wer_high`` around ``wer``)."""
    high, low = rows.wer_high - rows.wer, rows.wer - rows.wer_low
    return {"type": "data", "symmetric": False, "array": high, "arrayminus": low}


def plot_noise_robustness(table: pd.DataFrame, title: str = "Word error rate against noise"):
    """WER (with its interval) against SNR, clean audio drawn at the right as its own point; a plotly Figure."""
    import plotly.graph_objects as go

    noisy = table[table.condition != CLEAN].sort_values("snr_db")
    clean = table[table.condition == CLEAN]
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=noisy.condition, y=noisy.wer, mode="lines+markers", name="white noise",
        error_y=_wer_bars(noisy),
    ))  # fmt: skip
    fig.add_trace(go.Scatter(
        x=clean.condition, y=clean.wer, mode="markers", name="clean", marker={"symbol": "diamond", "size": 10},
        error_y=_wer_bars(clean),
    ))  # fmt: skip
    fig.update_layout(title=title, xaxis_title="signal-to-noise ratio", yaxis_title="WER (95% bootstrap interval)",
                      template="plotly_white", height=380)  # fmt: skip
    return fig


def labelled_subset(dataset, per_voice: int):
    """The first ``per_voice`` utterances of every voice of a spoken world (in the dataset's order), the labelled
    share of a low-resource setting; the rest of the audio is what pretraining may use without transcripts.

    >>> import datasets
    >>> ds = datasets.Dataset.from_dict({"voice": ["a", "a", "b", "a", "b"], "text": list("vwxyz")})
    >>> list(labelled_subset(ds, 1)["text"]), list(labelled_subset(ds, 2)["text"])
    (['v', 'x'], ['v', 'w', 'x', 'z'])
    """
    if isinstance(per_voice, bool) or not isinstance(per_voice, int) or per_voice < 1:
        raise ValueError(f"per_voice must be a positive integer; got {per_voice!r}")
    voices = pd.Series(list(dataset["voice"]))
    rank = voices.groupby(voices).cumcount()
    short = voices.value_counts()
    short = short[short < per_voice]
    if len(short):
        raise ValueError(f"voice(s) {sorted(short.index)} have fewer than {per_voice} utterances; draw more per voice")
    return dataset.select(np.flatnonzero(rank.to_numpy() < per_voice))


@dataclass
class PretrainingStudy:
    """What :func:`pretraining_comparison` measured.

    ``table``: one row per arm and seed (``start`` = "scratch" or "pretrained", ``seed``, ``wer``, ``cer``,
    ``ctc_steps``, ``pretrain_steps``, ``train_s``), with ``attrs["items"]`` (per-utterance :func:`word_error_items`
    keyed by ``(start, seed)``) and ``attrs["item_key"]``, the layout of :mod:`genlab.studies.replicated`.
    ``curves``: one row per logged step (``start``, ``seed``, ``stage`` = "pretraining" or "ctc", ``step``,
    ``loss``). ``transcripts``: every evaluation transcript. ``settings``: the sizes and steps."""

    table: pd.DataFrame
    curves: pd.DataFrame
    transcripts: pd.DataFrame
    settings: dict = field(default_factory=dict)


def pretraining_comparison(
    unlabelled,
    labelled,
    evaluation,
    *,
    seeds: Sequence[int] = (0,),
    pretrain_steps: int = 1000,
    ctc_steps: int = 1000,
    batch_size: int = 16,
    learning_rate: float = 1e-3,
    pretrain_learning_rate: float = 5e-4,
    warmup_steps: int | None = None,
    model: dict | None = None,
    callbacks: Sequence = (),
    live_plot: bool = False,
    progress: bool | None = None,
) -> PretrainingStudy:
    """wav2vec 2.0 pretraining then CTC fine-tuning, against CTC training from scratch, on the same labels.

    For every seed: arm ``"pretrained"`` runs :func:`genlab.training.speech.pretrain_contrastive` (masked
    contrastive learning, ``pretrain_steps`` steps) on the audio of ``unlabelled`` (its transcripts are never read),
    then :func:`genlab.training.speech.train_ctc` on ``labelled`` for ``ctc_steps`` steps; arm ``"scratch"`` runs the
    same CTC training from random weights. Both arms use the same model config (``speech_config(**model)``), seed,
    labelled data, steps and optimiser, so the pretraining is the only difference. Every run transcribes
    ``evaluation`` (greedy CTC). ``callbacks`` go to every CTC training; ``live_plot=True`` adds a
    :class:`genlab.training.live_loss.LiveLossPlot` of its own to each CTC run (in a notebook). ``warmup_steps``
    defaults to a tenth of ``ctc_steps``.

    Compare the arms with ``replicated_tests(study.table, "start", "scratch", family=...)``: with 2 or more seeds
    the runs' variation enters the interval (mixed model over runs and utterances); with one seed the table says
    that only the utterances were resampled.
    """
    from genlab.metrics.speech import cer
    from genlab.models.speech import speech_config
    from genlab.training.live_loss import LiveLossPlot
    from genlab.training.speech import pretrain_contrastive, train_ctc

    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct integers, e.g. (0, 1, 2); got {seeds!r}")
    for name, value in (("pretrain_steps", pretrain_steps), ("ctc_steps", ctc_steps)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    for name, ds in (("unlabelled", unlabelled), ("labelled", labelled), ("evaluation", evaluation)):
        if ds is None or len(ds) == 0:
            raise ValueError(f"{name} is empty: pass a spoken-world Dataset with 'audio' (and 'text') columns")
    warmup = max(1, ctc_steps // 10) if warmup_steps is None else warmup_steps
    config = speech_config(**(model or {}))
    eval_audio, refs = _audio(evaluation), list(evaluation["text"])
    rows, items, curves, transcripts = [], {}, [], {"reference": refs}
    for seed in seeds:
        for start in ("scratch", "pretrained"):
            began = time.perf_counter()
            origin = config
            if start == "pretrained":
                origin, pre = pretrain_contrastive(config, unlabelled, steps=pretrain_steps, batch_size=batch_size,
                                                   learning_rate=pretrain_learning_rate, seed=seed,
                                                   progress=progress)  # fmt: skip
                curves += [{"start": start, "seed": seed, "stage": "pretraining", "step": s, "loss": v}
                           for s, v in pre.train_loss]  # fmt: skip
            live = [LiveLossPlot(title=f"CTC loss: {start}, seed {seed}", y_label="CTC loss (per target character)")
                    ] if live_plot else []  # fmt: skip
            bundle, record = train_ctc(origin, labelled, steps=ctc_steps, batch_size=batch_size,
                                       learning_rate=learning_rate, warmup_steps=warmup, seed=seed,
                                       callbacks=[*callbacks, *live],
                                       progress=progress)  # fmt: skip
            curves += [{"start": start, "seed": seed, "stage": "ctc", "step": s, "loss": v}
                       for s, v in record.train_loss]  # fmt: skip
            hyps = bundle.transcribe(eval_audio)
            scores = word_error_items(hyps, refs)
            items[(start, seed)] = tuple(float(v) for v in scores)
            transcripts[f"{start}-{seed}"] = hyps
            rows.append({"start": start, "seed": seed, "wer": float(scores.mean()), "cer": cer(hyps, refs),
                         "ctc_steps": ctc_steps, "pretrain_steps": pretrain_steps if start == "pretrained" else 0,
                         "train_s": round(time.perf_counter() - began, 1)})  # fmt: skip
    table = pd.DataFrame(rows)
    table.attrs = {"item_key": ("start", "seed"), "items": items, "score": "linearised word errors (mean = WER)"}
    settings = {"n_unlabelled": len(unlabelled), "n_labelled": len(labelled), "n_evaluation": len(evaluation),
                "seeds": seeds, "pretrain_steps": pretrain_steps, "ctc_steps": ctc_steps, "batch_size": batch_size,
                "learning_rate": learning_rate, "pretrain_learning_rate": pretrain_learning_rate,
                "warmup_steps": warmup, "citation": SSL_CITATION}  # fmt: skip
    return PretrainingStudy(table, pd.DataFrame(curves), pd.DataFrame(transcripts), settings)


def plot_pretraining_curves(curves: pd.DataFrame, title: str = "Training loss by arm and seed"):
    """The CTC loss of every run (one line per arm and seed) beside the contrastive pretraining loss; plotly."""
    import plotly.express as px

    df = curves.assign(run=curves["start"] + " / seed " + curves["seed"].astype(str))
    fig = px.line(df, x="step", y="loss", color="run", facet_col="stage", markers=False, title=title,
                  category_orders={"stage": ["pretraining", "ctc"]}, template="plotly_white", height=380)  # fmt: skip
    fig.update_yaxes(matches=None, showticklabels=True)
    return fig


def plot_error_rates(table: pd.DataFrame, group: str = "voice", held_out: Sequence = (), title: str | None = None):
    """WER per value of one grouping of :func:`genlab.metrics.speech.error_rate_table`, with intervals, and the
    overall WER as a dashed line; the values in ``held_out`` (e.g. the held-out voices' names) in a second colour.
    A plotly Figure."""
    import plotly.graph_objects as go

    rows = table[table.group == group]
    if rows.empty:
        raise ValueError(f"no rows for group {group!r}; the table has {sorted(set(table.group) - {'overall'})}")
    overall = float(table.loc[table.group == "overall", "wer"].iloc[0])
    held = rows["value"].isin(list(held_out))
    fig = go.Figure()
    for flag, name in ((False, "seen in training" if held.any() else group), (True, "held out of training")):
        part = rows[held == flag]
        if part.empty:
            continue
        fig.add_trace(go.Bar(
            x=part["value"].astype(str), y=part.wer, name=name,
            error_y=_wer_bars(part),
        ))  # fmt: skip
    fig.add_hline(y=overall, line_dash="dash", annotation_text=f"overall {overall:.3f}")
    fig.update_layout(title=title or f"WER by {group} (95% bootstrap intervals)", yaxis_title="WER",
                      template="plotly_white", height=400)  # fmt: skip
    return fig
