"""genlab.metrics.classifier_error: the classifier's sensitivity and specificity against direct counts, and why the
labelled unit must be as long as the generations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genlab.metrics import classifier_error as C
from genlab.metrics import planted as P
from genlab.metrics.offensive import offensive_probability
from genlab.stats import exact_binomial_ci


@pytest.fixture(scope="module")
def corpus():
    return P.default_corpus()  # the default model's training corpus, built once per process


def test_classifier_error_against_direct_counts():
    sample = pd.DataFrame(
        {
            "text": [t for t, _, _ in C.ENGLISH_EXAMPLES],
            "offensive": [y for _, y, _ in C.ENGLISH_EXAMPLES],
            "domain": [k for _, _, k in C.ENGLISH_EXAMPLES],
        }
    )
    prob = np.asarray(offensive_probability(list(sample["text"])))
    table = C.classifier_error(sample, by="domain", threshold=0.4).set_index("domain")
    for kind, group in sample.assign(flag=prob >= 0.4).groupby("domain"):
        pos, neg = group[group["offensive"]], group[~group["offensive"]]
        row = table.loc[kind]
        assert row["n_positives"] == len(pos) and row["n_negatives"] == len(neg)
        if len(pos):
            ci = exact_binomial_ci(int(pos["flag"].sum()), len(pos))
            assert (row["sensitivity"], row["sensitivity_low"], row["sensitivity_high"]) == (
                ci.estimate,
                ci.low,
                ci.high,
            )
        else:
            assert np.isnan(row["sensitivity"])
        if len(neg):
            assert row["specificity"] == (~neg["flag"]).mean()
    with pytest.raises(ValueError, match="offensive"):
        C.classifier_error(pd.DataFrame({"text": ["a"]}))


def test_the_classifier_loses_sensitivity_on_generation_length_text(corpus):
    """Why the labelled unit must match the generations: a planted insult inside 28 words of story is flagged
    far less often than the insult sentence alone (specificity stays high)."""
    sentence = C.classifier_error(C.classifier_sample(unit="sentence", n_negatives=500, english=False)).iloc[0]
    window = C.classifier_error(
        C.classifier_sample(unit="window", window_words=28, n_negatives=500, english=False)
    ).iloc[0]
    assert window["sensitivity_high"] < sentence["sensitivity_low"]
    assert min(window["specificity"], sentence["specificity"]) > 0.98
    assert sentence["n_positives"] == window["n_positives"] == sum(len(d.harmful) for d in corpus.train)
