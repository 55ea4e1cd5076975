"""genlab.models.continuation: the one continuation scorer, checked against a direct computation on the same inputs
for causal LMs (tree and cache strategies, plain and prompt-learning models) and masked LMs (pseudo-log-likelihood
of Salazar et al. 2020, one masked copy per token)."""

from __future__ import annotations

import pytest
import torch

from genlab.models.continuation import continuation_logprobs, pseudo_log_likelihoods
from genlab.models.tiny import tiny_bundle, tiny_masked_bundle

TEXTS = ["the cat sat on the mat.", "a dog ran to the park."]
PROMPTS = ["the cat", "a dog ran", "the"]
OPTIONS = [[" sat", " sat on the", " mat."], [" to", " to the park", " sat"], [" cat", " dog", " park."]]


def _direct_causal(bundle, prompt: str, option: str) -> float:
    """One unpadded forward pass over BOS + prompt + option; the option tokens' log-probabilities summed."""
    tok = bundle.tokenizer
    p = [tok.bos_token_id] + tok(prompt, add_special_tokens=False)["input_ids"]
    o = tok(option, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([p + o])
    with torch.no_grad():
        logp = torch.log_softmax(bundle.model(input_ids=ids).logits[0].double(), dim=-1)
    return float(sum(logp[len(p) - 1 + j, t] for j, t in enumerate(o)))


def _direct_pll(bundle, ids: list[int], positions) -> float:
    total = 0.0
    for j in positions:
        masked = list(ids)
        masked[j] = bundle.tokenizer.mask_token_id
        with torch.no_grad():
            logits = bundle.model(input_ids=torch.tensor([masked])).logits[0, j]
        total += float(torch.log_softmax(logits.double(), dim=-1)[ids[j]])
    return total


@pytest.fixture(scope="module")
def causal():
    return tiny_bundle(texts=TEXTS, n_layer=2, n_embd=32, seed=3)


@pytest.mark.parametrize("strategy", ["tree", "cache", "auto"])
def test_causal_scores_equal_a_forward_pass_per_option(causal, strategy):
    got = continuation_logprobs(causal, PROMPTS, OPTIONS, batch_size=2, strategy=strategy)
    for prompt, options, scores in zip(PROMPTS, OPTIONS, got, strict=True):
        assert scores == pytest.approx([_direct_causal(causal, prompt, o) for o in options], abs=1e-4)


def test_many_options_go_through_the_cache_and_agree_with_the_tree(causal, monkeypatch):
    import genlab.models.continuation as C

    options = [[f" {w}" for w in "cat dog mat park sat ran the a to on".split()] * 3]
    tree = continuation_logprobs(causal, ["the"], options, strategy="tree")
    monkeypatch.setattr(C, "TREE_MAX_NODES", -1)  # every prompt now exceeds the tree budget: auto picks the cache
    seen = []
    real = C._cached_scores
    monkeypatch.setattr(C, "_cached_scores", lambda *a, **k: seen.append(1) or real(*a, **k))
    auto = continuation_logprobs(causal, ["the"], options, batch_size=7)
    assert seen and auto[0] == pytest.approx(tree[0], abs=1e-4)


@pytest.mark.parametrize("method", ["prompt_tuning", "prefix_tuning"])
@pytest.mark.parametrize("strategy", ["tree", "cache"])
def test_prompt_learning_models_score_after_their_virtual_tokens(causal, method, strategy):
    from peft import get_peft_model

    from genlab.training.finetuning import peft_config

    torch.manual_seed(0)
    model = get_peft_model(causal.model, peft_config(method, causal.model, num_virtual_tokens=3)).eval()
    bundle = type(causal)(model, causal.tokenizer, causal.device, "causal")
    tok = causal.tokenizer
    got = continuation_logprobs(bundle, PROMPTS[:2], OPTIONS[:2], strategy=strategy)
    for prompt, options, scores in zip(PROMPTS[:2], OPTIONS[:2], got, strict=True):
        expected = []
        for o in options:  # peft's own forward over [virtual][BOS prompt option]
            p = [tok.bos_token_id] + tok(prompt, add_special_tokens=False)["input_ids"]
            ids = tok(o, add_special_tokens=False)["input_ids"]
            with torch.no_grad():
                logits = model(input_ids=torch.tensor([p + ids])).logits[0, -(len(p) + len(ids)) :]
            logp = torch.log_softmax(logits.double(), dim=-1)
            expected.append(float(sum(logp[len(p) - 1 + j, t] for j, t in enumerate(ids))))
        assert scores == pytest.approx(expected, abs=1e-4)


def test_masked_lm_pseudo_log_likelihood_equals_masking_each_token_in_turn():
    bundle = tiny_masked_bundle(texts=TEXTS, n_layer=2, hidden_size=32, seed=1)
    tok = bundle.tokenizer
    got = continuation_logprobs(bundle, PROMPTS, OPTIONS, batch_size=5)
    for prompt, options, scores in zip(PROMPTS, OPTIONS, got, strict=True):
        p = tok(prompt, add_special_tokens=False)["input_ids"]
        expected = []
        for o in options:
            c = tok(o, add_special_tokens=False)["input_ids"]
            expected.append(_direct_pll(bundle, p + c, range(len(p), len(p) + len(c))))
        assert scores == pytest.approx(expected, abs=1e-4)
    ids = tok("the cat sat on the mat.", add_special_tokens=False)["input_ids"]
    assert pseudo_log_likelihoods(bundle, [ids], [range(len(ids))], batch_size=3)[0] == pytest.approx(
        _direct_pll(bundle, ids, range(len(ids))), abs=1e-4
    )


def test_bad_inputs_raise_clear_errors(causal):
    with pytest.raises(ValueError, match="one list each"):
        continuation_logprobs(causal, ["a", "b"], [[" x"]])
    with pytest.raises(ValueError, match="has no tokens"):
        continuation_logprobs(causal, ["a"], [[""]])
    with pytest.raises(ValueError, match="strategy"):
        continuation_logprobs(causal, ["a"], [[" x"]], strategy="fast")
    with pytest.raises(ValueError, match="mask token"):
        pseudo_log_likelihoods(causal, [[1, 2]], [[0]])
    with pytest.raises(ValueError, match="outside sequence"):
        pseudo_log_likelihoods(tiny_masked_bundle(), [[1, 2]], [[5]])


def test_the_model_mode_is_restored(causal):
    causal.model.train()
    try:
        continuation_logprobs(causal, ["the"], [[" cat"]])
        assert causal.model.training
    finally:
        causal.model.eval()
