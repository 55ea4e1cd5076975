"""Perplexity against a port of the Hugging Face guide's strided loop, and batched against unbatched."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from genlab.metrics.perplexity import corpus_perplexity, perplexity
from genlab.models import Bundle
from genlab.models import scoring as ppl_module
from genlab.models.scoring import windows

pytestmark = pytest.mark.usefixtures("one_thread")


def _loss(model, input_ids, labels) -> float:
    """``model(input_ids, labels=labels).loss``, computed from the logits of the last T positions: the same for a
    plain model; for a prompt-tuned peft model it leaves out the virtual tokens' logits (with ``labels=``, peft pads
    the labels with -100 for them, so its loss also scores the window's first token from the last virtual token)."""
    with torch.no_grad():
        logits = model(input_ids=input_ids).logits[:, -input_ids.shape[1] :]  # (1, T, V)
    return torch.nn.functional.cross_entropy(logits[0, :-1].float(), labels[0, 1:], ignore_index=-100).item()


def hf_guide_strided(model, ids: list[int], max_length: int, stride: int, literal_count: bool = False):
    """The loop of "Perplexity of fixed-length models" (transformers docs/source/en/perplexity.md, commit 052b1dc),
    on one long token sequence. Returns (ppl, nll_sum, n_tokens).

    literal_count=False counts the tokens each window's loss really averages over. The guide's line
    ``num_loss_tokens = num_valid_tokens - batch_size`` subtracts one token for the label shift even when the
    window's first label is already -100 (every window after the first when stride < max_length), so it
    under-counts by one token per such window and weights those windows' mean loss slightly low.
    """
    encodings = torch.tensor([ids])
    seq_len = encodings.size(1)
    nll_sum, n_tokens, prev_end_loc = 0.0, 0, 0
    for begin_loc in range(0, seq_len, stride):
        end_loc = min(begin_loc + max_length, seq_len)
        trg_len = end_loc - prev_end_loc  # may be different from stride on last loop
        input_ids = encodings[:, begin_loc:end_loc]
        target_ids = input_ids.clone()
        target_ids[:, :-trg_len] = -100
        neg_log_likelihood = _loss(model, input_ids, target_ids)
        if literal_count:
            num_loss_tokens = (target_ids != -100).sum().item() - target_ids.size(0)
        else:
            num_loss_tokens = (target_ids[:, 1:] != -100).sum().item()  # labels left after the internal shift
        nll_sum += neg_log_likelihood * num_loss_tokens
        n_tokens += num_loss_tokens
        prev_end_loc = end_loc
        if end_loc == seq_len:
            break
    return math.exp(nll_sum / n_tokens), nll_sum, n_tokens


@pytest.fixture(scope="module")
def long_ids(tiny_bundle, small_corpus):
    text = "\n\n".join(small_corpus.texts("validation")[:6])
    ids = tiny_bundle.tokenizer(text, add_special_tokens=False)["input_ids"]
    assert len(ids) > 200
    return text, ids


@pytest.mark.parametrize("max_length,stride", [(32, 32), (32, 16), (32, 7), (128, 50)])
def test_matches_the_hf_guide_strided_loop(tiny_bundle, long_ids, max_length, stride):
    text, ids = long_ids
    ref_ppl, ref_nll, ref_n = hf_guide_strided(tiny_bundle.model, ids, max_length, stride)
    r = perplexity(tiny_bundle, [text], stride=stride, max_length=max_length, add_bos=False, batch_size=4)
    assert r.n_tokens == ref_n
    assert r.nll_sum == pytest.approx(ref_nll, rel=1e-5)
    assert r.perplexity == pytest.approx(ref_ppl, rel=1e-4)
    assert r.per_text[0] == pytest.approx(ref_ppl, rel=1e-4)


def test_the_guides_literal_token_count_is_one_short_per_overlapping_window(tiny_bundle, long_ids):
    text, ids = long_ids
    literal = hf_guide_strided(tiny_bundle.model, ids, 32, 16, literal_count=True)
    r = perplexity(tiny_bundle, [text], stride=16, max_length=32, add_bos=False)
    assert r.n_tokens - literal[2] == len(windows(len(ids), 32, 16)) - 1
    assert r.perplexity == pytest.approx(literal[0], rel=1e-2)  # close, but not the same weighting
    no_overlap = hf_guide_strided(tiny_bundle.model, ids, 32, 32, literal_count=True)
    assert no_overlap[2] == perplexity(tiny_bundle, [text], max_length=32, add_bos=False).n_tokens


def test_smaller_stride_gives_more_context(tiny_bundle, long_ids):
    text, _ = long_ids
    r = [perplexity(tiny_bundle, [text], stride=s, max_length=32, add_bos=False) for s in (32, 8)]
    assert r[0].n_tokens < r[1].n_tokens  # without overlap the first token of each window is unscored
    assert r[0].perplexity != r[1].perplexity


def test_each_short_text_matches_a_plain_forward_pass(tiny_bundle, small_corpus):
    tok = tiny_bundle.tokenizer
    texts = [t for t in small_corpus.texts("test") if len(tok(t)["input_ids"]) < 127][:5]  # fit the 128 context
    r = perplexity(tiny_bundle, texts)
    for text, value in zip(texts, r.per_text, strict=True):
        ids = torch.tensor([[tok.bos_token_id] + tok(text, add_special_tokens=False)["input_ids"]])
        with torch.no_grad():
            loss = tiny_bundle.model(ids, labels=ids).loss.item()
        assert value == pytest.approx(math.exp(loss), rel=1e-5)
    assert r.perplexity == pytest.approx(math.exp(sum(r.per_text_nll) / sum(r.per_text_tokens)), rel=1e-12)
    assert corpus_perplexity(tiny_bundle, texts) == pytest.approx(r.perplexity, rel=1e-6)


@pytest.mark.filterwarnings("ignore:1 of 14 texts have no token to score")
def test_batched_equals_unbatched(tiny_bundle, small_corpus):
    texts = small_corpus.texts("validation")[:12] + ["", "a"]
    one = perplexity(tiny_bundle, texts, max_length=64, stride=32, batch_size=1)
    many = perplexity(tiny_bundle, texts, max_length=64, stride=32, batch_size=8)
    assert one.n_tokens == many.n_tokens and one.per_text_tokens == many.per_text_tokens
    assert many.per_text == pytest.approx(one.per_text, rel=1e-5, nan_ok=True)
    assert many.perplexity == pytest.approx(one.perplexity, rel=1e-5)
    assert math.isnan(many.per_text[-2])  # "" is BOS alone: nothing to score
    assert many.per_text_tokens[-1] == 1


def test_texts_with_no_token_to_score_are_warned_of_counted_and_left_out(tiny_bundle, small_corpus):
    import warnings

    texts = small_corpus.texts("validation")[:3]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to warn of
        base = perplexity(tiny_bundle, texts)
    assert base.n_unscored == 0
    with pytest.warns(UserWarning, match=r"1 of 1 texts have no token to score \(positions 0; empty\).* is nan"):
        alone = perplexity(tiny_bundle, [""])
    assert math.isnan(alone.perplexity) and alone.n_tokens == 0 and alone.n_unscored == 1
    with pytest.warns(UserWarning, match=r"2 of 5 texts .*\(positions 0, 2; empty\).*leaves them out") as caught:
        mixed = perplexity(tiny_bundle, ["", texts[0], "", texts[1], texts[2]])
    assert len(caught) == 1 and mixed.n_unscored == 2 and mixed.n_tokens == base.n_tokens
    assert mixed.perplexity == pytest.approx(base.perplexity, rel=1e-6)
    assert mixed.per_text[1::2] + mixed.per_text[4:] == pytest.approx(base.per_text, rel=1e-6)
    with pytest.warns(UserWarning, match=r"positions 1; empty, or one token: with add_bos=False"):
        assert perplexity(tiny_bundle, [texts[0], "a"], add_bos=False).n_unscored == 1


def test_full_forward_path_equals_the_scored_positions_head(tiny_bundle, small_corpus, monkeypatch):
    texts = small_corpus.texts("validation")[:6]
    fast = perplexity(tiny_bundle, texts, max_length=48, stride=20)
    monkeypatch.setattr(ppl_module, "_PLAIN_HEAD", set())
    full = perplexity(tiny_bundle, texts, max_length=48, stride=20)
    assert fast.per_text == pytest.approx(full.per_text, rel=1e-5)


def test_peft_wrapped_model_scores_like_its_merged_weights(tiny_bundle, small_corpus):
    from peft import LoraConfig, get_peft_model

    texts = small_corpus.texts("test")[:4]
    torch.manual_seed(1)
    lora = get_peft_model(
        copy.deepcopy(tiny_bundle.model),
        LoraConfig(r=2, target_modules=["c_attn"], fan_in_fan_out=True, init_lora_weights=False),
    )
    wrapped = perplexity(Bundle(lora, tiny_bundle.tokenizer, tiny_bundle.device, "causal"), texts)
    merged = perplexity(Bundle(lora.merge_and_unload(), tiny_bundle.tokenizer, tiny_bundle.device, "causal"), texts)
    base = perplexity(tiny_bundle, texts)
    assert wrapped.per_text == pytest.approx(merged.per_text, rel=1e-5)
    assert wrapped.perplexity != pytest.approx(base.perplexity, rel=1e-3)  # the adapter is not a no-op


def test_dropout_is_off_while_scoring_and_the_mode_is_restored(tiny_bundle, small_corpus):
    from genlab.models.gpt2 import ModelConfig, build_model

    torch.manual_seed(0)
    model = build_model(tiny_bundle.tokenizer, ModelConfig(n_positions=64, n_embd=32, n_layer=1, n_head=2, dropout=0.5))
    bundle = Bundle(model.train(), tiny_bundle.tokenizer, tiny_bundle.device, "causal")
    texts = small_corpus.texts("test")[:3]
    first, second = perplexity(bundle, texts), perplexity(bundle, texts)
    assert model.training
    assert first.per_text == second.per_text


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"stride": 200, "max_length": 100}, "stride must be in"),
        ({"max_length": 10_000}, "model's context"),
        ({"texts": "one text"}, "list of strings"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_input_says_what_to_do(tiny_bundle, kwargs, match):
    texts = kwargs.pop("texts", ["a b c"])
    with pytest.raises(ValueError, match=match):
        perplexity(tiny_bundle, texts, **kwargs)


def test_the_fused_activation_is_swapped_back(tiny_bundle, small_corpus):
    from transformers.activations import NewGELUActivation

    acts = [block.mlp.act for block in tiny_bundle.model.transformer.h]
    assert all(type(a) is NewGELUActivation for a in acts)
    perplexity(tiny_bundle, small_corpus.texts("test")[:2])
    assert [block.mlp.act for block in tiny_bundle.model.transformer.h] == acts  # the same module objects


# --- PEFT models of every kind genlab.finetune makes -------------------------------------------------------------
PEFT_OPTIONS = {
    "lora": {"init_lora_weights": False},  # B != 0, so the adapter does something
    "ia3": {"init_ia3_weights": False},  # random scales instead of ones
    "prompt_tuning": {},  # 16 virtual tokens copied from vocabulary embeddings
    "prefix_tuning": {},  # a random 16-position key/value prefix
}


def adapted(bundle, method: str, **options) -> Bundle:
    from peft import get_peft_model

    from genlab.training.finetuning import peft_config

    torch.manual_seed(0)
    model = get_peft_model(copy.deepcopy(bundle.model), peft_config(method, bundle.model, **options)).eval()
    return Bundle(model, bundle.tokenizer, bundle.device, "causal")


def by_hand(model, ids: list[int]) -> tuple[float, int]:
    """(NLL, tokens) of one sequence from one forward pass of the (peft) model: logits of the last len(ids)
    positions (prompt tuning puts its virtual tokens' logits first), shifted by one."""
    x = torch.tensor([ids])
    with torch.no_grad():
        logits = model(input_ids=x, attention_mask=torch.ones_like(x)).logits[0, -len(ids) :]  # (T, V)
    logp = torch.log_softmax(logits[:-1].float(), dim=-1)
    return -logp.gather(1, x[0, 1:, None]).sum().item(), len(ids) - 1


@pytest.mark.parametrize("full_forward", [False, True], ids=["scored-head", "full-forward"])
@pytest.mark.parametrize("method", list(PEFT_OPTIONS))
def test_peft_model_matches_a_forward_pass_by_hand(
    sharp_bundle, small_corpus, long_ids, method, full_forward, monkeypatch
):
    if full_forward:
        monkeypatch.setattr(ppl_module, "_PLAIN_HEAD", set())
    bundle = adapted(sharp_bundle, method, **PEFT_OPTIONS[method])
    tok = bundle.tokenizer
    texts = [t[:150] for t in small_corpus.texts("test")[:5]]  # short: one window each
    r = perplexity(bundle, texts, batch_size=3)
    for text, value, n in zip(texts, r.per_text, r.per_text_tokens, strict=True):
        nll, count = by_hand(bundle.model, [tok.bos_token_id] + tok(text, add_special_tokens=False)["input_ids"])
        assert n == count
        assert value == pytest.approx(math.exp(nll / count), rel=1e-4)

    # A long text, in windows of the default size: the model's context less the virtual tokens.
    text, ids = long_ids
    n_virtual = 16 if method.endswith("_tuning") else 0
    ref_ppl, _, ref_n = hf_guide_strided(bundle.model, ids, 128 - n_virtual, 128 - n_virtual)
    strided = perplexity(bundle, [text], add_bos=False, batch_size=2)
    assert strided.n_tokens == ref_n
    assert strided.perplexity == pytest.approx(ref_ppl, rel=1e-4)
    assert strided.perplexity != pytest.approx(perplexity(sharp_bundle, [text], add_bos=False).perplexity, rel=1e-3)


def test_virtual_tokens_change_the_perplexity_and_a_zero_lora_does_not(sharp_bundle, small_corpus):
    texts = [t[:150] for t in small_corpus.texts("test")[:4]]  # within the prompt-tuned context: same windows
    base = perplexity(sharp_bundle, texts)
    prompt_tuned = perplexity(adapted(sharp_bundle, "prompt_tuning"), texts)  # untrained: vocabulary embeddings
    zero_lora = perplexity(adapted(sharp_bundle, "lora"), texts)  # peft's default: B = 0, so W + BA = W
    assert prompt_tuned.n_tokens == base.n_tokens
    assert prompt_tuned.perplexity != pytest.approx(base.perplexity, rel=1e-3)
    assert max(abs(a / b - 1) for a, b in zip(prompt_tuned.per_text, base.per_text, strict=True)) > 0.02
    assert zero_lora.per_text == base.per_text


def test_prompt_learning_shortens_the_context(sharp_bundle):
    for method in ("prompt_tuning", "prefix_tuning"):
        bundle = adapted(sharp_bundle, method, num_virtual_tokens=8)
        perplexity(bundle, ["a b c"], max_length=120)
        with pytest.raises(ValueError, match=r"\(0, 120\].*8 virtual tokens"):
            perplexity(bundle, ["a b c"], max_length=128)
