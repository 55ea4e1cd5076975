"""Contrastive search against a brute-force port of the published formula (Su et al. 2022, Eq. 5)."""

from __future__ import annotations

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from genlab.generation.contrastive import contrastive_search

PAD, EOS = 1, 0
PROMPTS = [[0, 5, 9, 9, 12], [0, 17], [0, 3, 4, 30, 31, 32, 7, 8]]


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def model():
    # float64 so that the cached and the brute-force computation cannot disagree on a near tie
    torch.manual_seed(0)
    cfg = GPT2Config(
        vocab_size=48,
        n_positions=64,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=EOS,
        eos_token_id=EOS,
        pad_token_id=PAD,
    )
    return GPT2LMHeadModel(cfg).double().eval()


def brute_force(
    model, prompt: list[int], alpha: float, k: int, n_new: int, eos: int | None = None, penalty_from: int = 0
) -> list[int]:
    """Su et al. (2022) Eq. 5, read literally: for each of the top-k candidates v, re-run the full model on
    x_<t + [v]; score (1 - alpha) p(v | x_<t) - alpha max_j cos(h_v, h_j); keep the argmax. No cache, no batching.
    ``penalty_from``: the first tokens condition the model but are left out of the penalty (j >= penalty_from)."""
    seq = list(prompt)
    with torch.no_grad():
        for _ in range(n_new):
            probs = model(torch.tensor([seq])).logits[0, -1].softmax(-1)
            top_p, top_ids = probs.topk(k)
            best, best_score = None, -float("inf")
            for p, v in zip(top_p.tolist(), top_ids.tolist(), strict=True):
                hidden = model(torch.tensor([seq + [v]]), output_hidden_states=True).hidden_states[-1][0]  # (t+1, H)
                h_v, context = hidden[-1], hidden[penalty_from:-1]
                penalty = max(torch.nn.functional.cosine_similarity(h_v, h_j, dim=0).item() for h_j in context)
                score = (1 - alpha) * p - alpha * penalty
                if score > best_score:
                    best, best_score = v, score
            seq.append(best)
            if best == eos:
                break
    return seq[len(prompt) :]


def run(model, prompts, alpha=0.6, k=4, n_new=10, eos=None, n_cached=0, **kwargs) -> list[list[int]]:
    """Batched, left-padded contrastive_search through model.generate; new tokens per prompt, padding dropped.
    ``n_cached``: positions already in a ``cache=`` passed in (the mask covers them too)."""
    width = max(map(len, prompts))
    ids = torch.tensor([[PAD] * (width - len(p)) + p for p in prompts])
    mask = torch.tensor([[1] * n_cached + [0] * (width - len(p)) + [1] * len(p) for p in prompts])
    out = model.generate(
        input_ids=ids,
        attention_mask=mask,
        penalty_alpha=alpha,
        top_k=k,
        max_new_tokens=n_new,
        min_new_tokens=0,
        eos_token_id=eos,
        pad_token_id=PAD,
        custom_generate=contrastive_search,
        **kwargs,
    )
    new = out[:, width:].tolist()
    return [row[: row.index(eos) + 1] if eos in row else row for row in new]


@pytest.mark.parametrize("alpha,k", [(0.6, 4), (0.4, 6)])
def test_kv_cached_matches_brute_force_one_prompt_at_a_time(model, alpha, k):
    for prompt in PROMPTS:
        assert run(model, [prompt], alpha, k)[0] == brute_force(model, prompt, alpha, k, 10)


def test_batched_with_left_padding_matches_brute_force(model):
    assert run(model, PROMPTS) == [brute_force(model, p, 0.6, 4, 10) for p in PROMPTS]


def test_without_cache_gives_the_same_tokens(model):
    assert run(model, PROMPTS, use_cache=False) == run(model, PROMPTS)


def test_a_cached_prefix_conditions_the_model_but_not_the_penalty(model):
    prefix = [0, 20, 21, 22, 23]  # e.g. the virtual tokens of a prompt-tuned model, here real ones
    prompts = [p[1:] for p in PROMPTS]  # BOS is in the prefix

    def cached_prefix():
        with torch.no_grad():
            cache = model(torch.tensor([prefix]), use_cache=True).cache
        cache.batch_repeat_interleave(len(prompts))
        return cache

    got = run(model, prompts, n_cached=len(prefix), cache=cached_prefix())
    assert got == [brute_force(model, prefix + p, 0.6, 4, 10, penalty_from=len(prefix)) for p in prompts]
    assert got != [brute_force(model, prefix + p, 0.6, 4, 10) for p in prompts]  # the penalty really skips it
    with pytest.raises(ValueError, match="needs use_cache=True"):
        run(model, prompts, n_cached=len(prefix), cache=cached_prefix(), use_cache=False)


def test_penalty_changes_the_output_and_alpha_zero_is_greedy(model):
    contrastive = run(model, PROMPTS, alpha=0.6)
    greedy_cs = run(model, PROMPTS, alpha=0.0)
    width = max(map(len, PROMPTS))
    ids = torch.tensor([[PAD] * (width - len(p)) + p for p in PROMPTS])
    mask = (ids != PAD).long()
    greedy = model.generate(
        input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=10, eos_token_id=None, pad_token_id=PAD
    )[:, width:].tolist()
    assert greedy_cs == greedy
    assert contrastive != greedy  # the degeneration penalty is doing something on this model


def test_stops_at_eos_and_pads_finished_rows(model):
    free = brute_force(model, PROMPTS[0], 0.6, 4, 10)
    eos = free[3]  # pretend the fourth chosen token is EOS: the first prompt must stop there
    expected = [brute_force(model, p, 0.6, 4, 10, eos=eos) for p in PROMPTS]
    assert expected[0] == free[: free.index(eos) + 1]
    assert run(model, PROMPTS, eos=eos) == expected


def test_rejects_bad_parameters(model):
    with pytest.raises(ValueError, match="penalty_alpha"):
        contrastive_search(model, torch.tensor([[0, 1]]), [], [], model.generation_config)
    with pytest.raises(ValueError, match="penalty_alpha in"):
        run(model, PROMPTS[:1], alpha=1.5)
