"""Welleck et al. (2020) token-level metrics against a port of the authors' code (custom/metrics.py)."""

from __future__ import annotations

import random

import pytest
import torch

from genlab.probes.next_token import next_token_metrics, token_repetition

pytestmark = pytest.mark.usefixtures("one_thread")


def authors_repeat_at_1(logits: torch.Tensor, targets: torch.Tensor, context_length: int):
    """``TrainingMetrics.repeat_at_1`` from facebookresearch/unlikelihood_training custom/metrics.py, as written."""
    with torch.no_grad():
        predictions = logits.argmax(1)

        targets = targets.unsqueeze(0)
        T = targets.size(1)
        assert logits.size(0) == T

        # T x T where prev_targets[t, :] = [y_1,...,y_t-1, -1, -1,..., -1]
        prev_targets = (
            targets.expand(T, T).tril().masked_fill_(torch.ones_like(targets.expand(T, T)).byte().triu().bool(), -1)
        )

        # each row t is [-1, ..., -1, y_{t-k-1}, ..., y_{t-1}, -1, ..., -1] where k is context length
        prev_targets = prev_targets.masked_fill_(
            torch.ones_like(targets.expand(T, T)).byte().tril(-(context_length + 1)).bool(), -1
        )

        repeat_at_1 = predictions[:, None] == prev_targets
        has_repeat_at_1 = repeat_at_1.sum(1).gt(0)
        total_repeat_at_1 = has_repeat_at_1.sum()

        is_incorrect = (predictions != targets.view(-1)).view(-1, 1)
        total_wrong_repeat_at_1 = ((repeat_at_1 * is_incorrect).sum(1).gt(0)).sum()

        total_human_repeat_at_1 = (prev_targets == targets.view(T, 1)).sum(1).gt(0).sum()

    return total_repeat_at_1, total_wrong_repeat_at_1, total_human_repeat_at_1


def one_hot_logits(predictions: list[int], vocab: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.tensor(predictions), vocab).float()


@pytest.mark.parametrize("seed", range(5))
def test_token_repetition_matches_the_authors_counts(seed):
    rng = random.Random(seed)
    vocab, n = 12, 300  # a small vocabulary, so that repeats at every distance occur
    targets = [rng.randrange(vocab) for _ in range(n)]
    predictions = [t if rng.random() < 0.3 else rng.randrange(vocab) for t in targets]
    ours = token_repetition(predictions, targets, context_lengths=(1, 3, 16, 128))
    for length in (1, 3, 16, 128):
        rep, wrep, hrep = authors_repeat_at_1(one_hot_logits(predictions, vocab), torch.tensor(targets), length)
        assert ours[f"rep/{length}"] == rep.item() / n
        assert ours[f"wrep/{length}"] == wrep.item() / n
        assert ours[f"hrep/{length}"] == hrep.item() / n


def test_end_to_end_matches_the_authors_evaluation_on_plain_forward_passes(tiny_bundle, small_corpus):
    tok, model = tiny_bundle.tokenizer, tiny_bundle.model
    # the first 100 tokens of each document (the tiny model's context is 128)
    texts = [tok.decode(tok(t, add_special_tokens=False)["input_ids"][:100])
             for t in small_corpus.texts("validation")[:8]]
    lengths = (16, 32, 128, 512)
    result = next_token_metrics(tiny_bundle, texts, context_lengths=lengths)

    # The authors' evaluation: one sequence at a time, pad never predicted, counts summed, divided by all tokens.
    totals = {f"{m}/{length}": 0 for length in lengths for m in ("rep", "wrep", "hrep")}
    hits, n, predicted = 0, 0, []
    for text in texts:
        ids = torch.tensor([[tok.bos_token_id] + tok(text, add_special_tokens=False)["input_ids"]])
        with torch.no_grad():
            logits = model(ids).logits[0, :-1].clone()  # predicts ids[1:]
        logits[:, tok.pad_token_id] = -1e19
        target = ids[0, 1:]
        true_token_logits = logits.gather(1, target[:, None])[:, 0]
        hits += int(((logits > true_token_logits[:, None]).sum(1) == 0).sum())  # hits_at_1
        n += len(target)
        predicted += logits.argmax(1).tolist()
        for length in lengths:
            for name, count in zip(("rep", "wrep", "hrep"), authors_repeat_at_1(logits, target, length), strict=True):
                totals[f"{name}/{length}"] += int(count)

    assert result.n_tokens == n
    assert result.acc == pytest.approx(hits / n)
    assert result.uniq == len(set(predicted))
    for length in lengths:
        assert result.rep[length] == pytest.approx(totals[f"rep/{length}"] / n)
        assert result.wrep[length] == pytest.approx(totals[f"wrep/{length}"] / n)
        assert result.hrep[length] == pytest.approx(totals[f"hrep/{length}"] / n)
    assert 0 < result.hrep[128] < 1 and result.rep[128] > 0  # the check is not vacuous on this data
    per = result.per_text
    assert len(per) == len(texts) and per["n_tokens"].sum() == n
    assert (per["rep/128"] * per["n_tokens"]).sum() / n == pytest.approx(result.rep[128])


def test_long_texts_use_strided_windows_but_look_back_over_the_whole_text(tiny_bundle, small_corpus):
    text = " ".join(small_corpus.texts("validation")[:4])
    strided = next_token_metrics(tiny_bundle, [text], max_length=32, stride=16, context_lengths=(128,))
    n_text = len(tiny_bundle.tokenizer(text, add_special_tokens=False)["input_ids"])
    assert n_text > 128 and strided.n_tokens == n_text  # overlapping windows predict every token once
    ids = tiny_bundle.tokenizer(text, add_special_tokens=False)["input_ids"]
    gold_only = token_repetition(ids, ids, context_lengths=(128,))  # predictions irrelevant to hrep
    assert strided.hrep[128] == pytest.approx(gold_only["hrep/128"])


def test_bad_input(tiny_bundle):
    with pytest.raises(ValueError, match="context_lengths"):
        next_token_metrics(tiny_bundle, ["a b"], context_lengths=(0,))
    with pytest.raises(ValueError, match="one prediction per target"):
        token_repetition([1, 2], [1])
