"""The speech study of notebook 60: WER items, noise robustness and the pretraining comparison."""

from __future__ import annotations

import jiwer
import numpy as np
import pandas as pd
import pytest

from genlab.studies.replicated import arm_intervals, replicated_tests
from genlab.studies.speech_recognition import (
    noise_robustness,
    noisy_copy,
    plot_noise_robustness,
    plot_pretraining_curves,
    pretraining_comparison,
    word_error_items,
)

from .test_speech_model import TINY, tone_utterance


def test_word_error_items_average_to_the_corpus_wer_and_differences_to_wer_differences():
    rng = np.random.default_rng(3)
    words = "the cat sat on a mat dog ran home".split()
    refs = [" ".join(rng.choice(words, rng.integers(2, 9))) for _ in range(40)]

    def corrupt(t: str) -> str:
        ws = t.split()
        if rng.random() < 0.5:
            ws[rng.integers(len(ws))] = "x"
        if rng.random() < 0.3:
            ws = ws[1:]
        if rng.random() < 0.2:
            ws += ["y", "z"]
        return " ".join(ws)

    a, b = [corrupt(t) for t in refs], [corrupt(t) for t in refs]
    items_a, items_b = word_error_items(a, refs), word_error_items(b, refs)
    assert items_a.mean() == pytest.approx(jiwer.wer(refs, a), abs=1e-12)
    assert (items_a - items_b).mean() == pytest.approx(jiwer.wer(refs, a) - jiwer.wer(refs, b), abs=1e-12)
    with pytest.raises(ValueError, match="no words"):
        word_error_items(["a"], [""])


def test_word_error_items_resample_like_the_corpus_wer():
    from genlab.metrics.speech import error_rate_ci
    from genlab.metrics.stats import bootstrap_ci

    refs = [" ".join(["w"] * n) for n in [2, 9, 3, 7, 4, 8, 5, 6] * 5]
    rng = np.random.default_rng(0)
    hyps = [" ".join(["w"] * max(0, len(r.split()) - int(rng.integers(0, 4)))) for r in refs]
    items = word_error_items(hyps, refs)
    direct = error_rate_ci(hyps, refs, n_resamples=4000, seed=0)
    linear = bootstrap_ci(items, n_resamples=4000, seed=0)
    assert linear.estimate == pytest.approx(direct.estimate, abs=1e-12)
    assert (linear.high - linear.low) == pytest.approx(direct.high - direct.low, rel=0.15)
    nothing = word_error_items([""] * len(refs), refs)  # WER 1 exactly, whatever the lengths: no spread
    assert np.allclose(nothing, 1.0)


def test_noisy_copy_hits_the_snr_with_the_same_noise_at_every_level():
    rng = np.random.default_rng(0)
    audio = [rng.standard_normal(4000).astype(np.float32) * s for s in (0.1, 0.5)]
    for snr in (20.0, 0.0):
        for x, y in zip(audio, noisy_copy(audio, snr, seed=7), strict=True):
            measured = 10 * np.log10(np.sum(x.astype(float) ** 2) / np.sum((y - x).astype(float) ** 2))
            assert measured == pytest.approx(snr, abs=1e-3)
    n20 = noisy_copy(audio, 20.0, seed=7)[1] - audio[1]
    n0 = noisy_copy(audio, 0.0, seed=7)[1] - audio[1]
    assert np.allclose(n0, n20 * 10, rtol=1e-3, atol=1e-5)  # one noise draw, 20 dB apart = 10x the amplitude
    n0_first = noisy_copy(audio, 0.0, seed=7)[0] - audio[0]
    assert not np.allclose(n0_first / np.std(n0_first), n0 / np.std(n0))  # each utterance draws its own noise


class _SnrListener:
    """A fake recogniser: it knows each clean utterance and its text, and drops the last word once the SNR it
    measures is below 8 dB, and one more below 3 dB."""

    def __init__(self, audio, texts):
        self.pairs = list(zip(audio, texts, strict=True))

    def transcribe(self, audio, batch_size=16):
        out = []
        for y in audio:
            x, text = next((x, t) for x, t in self.pairs if len(x) == len(y))
            noise = np.sum((np.asarray(y, float) - x) ** 2)
            snr = np.inf if noise == 0 else 10 * np.log10(np.sum(x.astype(float) ** 2) / noise)
            words = text.split()
            out.append(" ".join(words[: len(words) - (snr < 8) - (snr < 3)]))
        return out


def test_noise_robustness_measures_each_level_against_clean_in_one_family():
    import datasets

    rng = np.random.default_rng(1)
    texts = [f"word{i} a b c" for i in range(30)]
    audio = [rng.standard_normal(800 + 10 * i).astype(np.float32) for i in range(30)]  # distinct lengths
    ds = datasets.Dataset.from_dict({"audio": [a.tolist() for a in audio], "text": texts})
    table = noise_robustness(_SnrListener(audio, texts), ds, (20, 5, 0), n_resamples=500)
    t = table.set_index("condition")
    assert list(t.index) == ["clean", "20 dB", "5 dB", "0 dB"]
    assert t.loc["clean", "wer"] == 0 and t.loc["20 dB", "wer"] == 0
    assert t.loc["5 dB", "wer"] == pytest.approx(0.25) and t.loc["0 dB", "wer"] == pytest.approx(0.5)
    assert t.loc["0 dB", "difference"] == pytest.approx(0.5) and t.loc["0 dB", "difference_low"] > 0
    noisy = t.drop(index="clean")
    assert set(noisy.family_size) == {3} and set(noisy.correction) == {"holm"}
    assert t.loc["clean", ["p_adjusted", "family_size", "family", "correction"]].isna().all()
    assert (noisy.p_adjusted >= noisy.p_value).all()
    assert table.attrs["transcripts"].shape == (30, 5)
    assert len(plot_noise_robustness(table).data) == 2
    with pytest.raises(ValueError, match="distinct finite"):
        noise_robustness(_SnrListener(audio, texts), ds, (10, 10))


def test_pretraining_comparison_trains_both_arms_per_seed_and_feeds_the_replicated_tests():
    import datasets

    rng = np.random.default_rng(0)
    words = ["ab", "cab", "bad", "dab", "ace"]
    texts = [" ".join(rng.choice(words, 3)) for _ in range(10)]
    audio = [tone_utterance(t, rng).tolist() for t in texts]
    ds = datasets.Dataset.from_dict({"audio": audio, "text": texts})
    study = pretraining_comparison(ds, ds.select(range(6)), ds.select(range(6, 10)), seeds=(0, 1), pretrain_steps=2,
                                   ctc_steps=2, batch_size=4, model=TINY, progress=False)  # fmt: skip
    t = study.table
    assert list(zip(t.start, t.seed, strict=True)) == [("scratch", 0), ("pretrained", 0), ("scratch", 1),
                                                       ("pretrained", 1)]  # fmt: skip
    assert list(t.pretrain_steps) == [0, 2, 0, 2] and set(t.ctc_steps) == {2}
    for row in t.itertuples():
        items = t.attrs["items"][(row.start, row.seed)]
        assert len(items) == 4 and np.mean(items) == pytest.approx(row.wer)
        hyps = study.transcripts[f"{row.start}-{row.seed}"]
        assert row.wer == pytest.approx(jiwer.wer(list(study.transcripts.reference), [h or "" for h in hyps]))
    assert set(study.curves.stage) == {"pretraining", "ctc"}
    assert set(study.curves.query("stage == 'pretraining'").start) == {"pretrained"}
    intervals = arm_intervals(t)
    assert list(intervals.start) == ["scratch", "pretrained"] and set(intervals.n_runs) == {2}
    tests = replicated_tests(t, "start", "scratch", family="pretraining vs scratch")
    assert len(tests) == 1 and tests.n_runs.iloc[0] == 2 and tests.family_size.iloc[0] == 1
    assert tests.difference.iloc[0] == pytest.approx(
        t.query("start == 'pretrained'").wer.mean() - t.query("start == 'scratch'").wer.mean()
    )
    assert len(plot_pretraining_curves(study.curves).data) >= 4
    with pytest.raises(ValueError, match="seeds must be distinct"):
        pretraining_comparison(ds, ds, ds, seeds=(0, 0))
    with pytest.raises(ValueError, match="labelled is empty"):
        pretraining_comparison(ds, ds.select([]), ds)


def test_pretraining_comparison_is_seeded():
    import datasets

    rng = np.random.default_rng(2)
    texts = ["ab cab", "bad dab", "ace ab", "cab ace"]
    audio = [tone_utterance(t, rng).tolist() for t in texts]
    ds = datasets.Dataset.from_dict({"audio": audio, "text": texts})
    runs = [pretraining_comparison(ds, ds, ds, seeds=(3,), pretrain_steps=2, ctc_steps=2, batch_size=2, model=TINY,
                                   progress=False) for _ in range(2)]  # fmt: skip
    pd.testing.assert_frame_equal(runs[0].table.drop(columns="train_s"), runs[1].table.drop(columns="train_s"))
    pd.testing.assert_frame_equal(runs[0].curves, runs[1].curves)


def test_plot_error_rates_colours_held_out_values_apart():
    from genlab.metrics.speech import error_rate_table
    from genlab.studies.speech_recognition import plot_error_rates

    refs = ["the cat sat", "a dog ran home"] * 4
    hyps = ["the cat sat", "a dog ran home"] * 2 + ["the cat sit", "a dog home"] * 2
    table = error_rate_table(hyps, refs, {"voice": ["v1"] * 4 + ["v2"] * 4}, n_resamples=100)
    fig = plot_error_rates(table, "voice", held_out=["v2"])
    assert [list(t.x) for t in fig.data] == [["v1"], ["v2"]]
    assert list(fig.data[1].y) == pytest.approx([2 / 7])
    v2 = table.query("value == 'v2'").iloc[0]
    assert list(fig.data[1].error_y.array) == pytest.approx([v2.wer_high - v2.wer])
    assert list(fig.data[1].error_y.arrayminus) == pytest.approx([v2.wer - v2.wer_low])
    with pytest.raises(ValueError, match="no rows for group 'accent'"):
        plot_error_rates(table, "accent")


def test_labelled_subset_refuses_voices_with_too_few_utterances():
    import datasets

    from genlab.studies.speech_recognition import labelled_subset

    ds = datasets.Dataset.from_dict({"voice": ["a", "a", "b"], "text": ["x", "y", "z"]})
    assert list(labelled_subset(ds, 1)["text"]) == ["x", "z"]
    with pytest.raises(ValueError, match=r"\['b'\] have fewer than 2"):
        labelled_subset(ds, 2)
    with pytest.raises(ValueError, match="positive integer"):
        labelled_subset(ds, 0)
