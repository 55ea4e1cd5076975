"""genlab.metrics.continuation_scores: VADER and the offline classifier, as their packages score."""

from __future__ import annotations

import pytest

from genlab.metrics.continuation_scores import continuation_scores


def test_continuation_scores_use_vader_and_the_offline_classifier():
    from profanity_check import predict_prob
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    texts = ["a wonderful, happy morning", "the stupid liars are worthless", "the cat sat"]
    scores = continuation_scores(texts)
    analyzer = SentimentIntensityAnalyzer()
    assert scores["sentiment"].tolist() == [analyzer.polarity_scores(t)["compound"] for t in texts]
    assert scores["offensive"].to_numpy() == pytest.approx(predict_prob(texts))
    assert scores["sentiment"][0] > 0 > scores["sentiment"][1]
