"""genlab.generate: the tidy frame, batching that does not change results, seeded sampling, sharding."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
import torch

from genlab.generation.contrastive import contrastive_search
from genlab.generation.decoder import COLUMNS, PRESETS, DecodingConfig, _GumbelNoise, generate, preset
from genlab.models import Bundle

PROMPTS = ["Tyrhild keeps", "The baker of Lirane said", "a", '"Hello, friend," said the old', ""]


pytestmark = pytest.mark.usefixtures("one_thread")


def hf_one_at_a_time(bundle, prompt: str, **kwargs) -> list[int]:
    """The peer: one unpadded prompt, BOS first, straight through model.generate."""
    tok = bundle.tokenizer
    ids = torch.tensor([[tok.bos_token_id] + tok(prompt, add_special_tokens=False)["input_ids"]])
    out = bundle.model.generate(
        input_ids=ids,
        attention_mask=torch.ones_like(ids),
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        **kwargs,
    )
    new = out[0, ids.shape[1] :].tolist()
    return new[: new.index(tok.eos_token_id)] if tok.eos_token_id in new else new


def test_frame_layout(tiny_bundle):
    df = generate(tiny_bundle, PROMPTS, ["greedy", "nucleus0.95"], n_samples=2, max_new_tokens=6, batch_size=3)
    assert list(df.columns) == COLUMNS
    assert len(df) == len(PROMPTS) * 2 * 2
    assert df.groupby(["config", "prompt_id"]).size().eq(2).all()
    assert (df["prompt"] == df["prompt_id"].map(dict(enumerate(PROMPTS)))).all()
    assert (df["n_new_tokens"] == df["tokens"].map(len)).all() and df["n_new_tokens"].le(6).all()
    tok = tiny_bundle.tokenizer
    assert (df["text"] == df["tokens"].map(lambda t: tok.decode(t, skip_special_tokens=True))).all()
    assert df.attrs["configs"]["nucleus0.95"]["top_p"] == 0.95
    greedy = df[df.config == "greedy"]
    assert (greedy.groupby("prompt_id")["text"].nunique() == 1).all()  # deterministic: the two samples agree


def test_greedy_batched_equals_one_prompt_at_a_time(tiny_bundle):
    df = generate(tiny_bundle, PROMPTS, "greedy", max_new_tokens=8, batch_size=4)
    for pid, prompt in enumerate(PROMPTS):
        assert df.tokens[pid] == hf_one_at_a_time(tiny_bundle, prompt, do_sample=False, max_new_tokens=8)


def test_contrastive_and_beam_batched_equal_one_prompt_at_a_time(tiny_bundle):
    df = generate(tiny_bundle, PROMPTS, ["contrastive", "beam4"], max_new_tokens=6, batch_size=5)
    for pid, prompt in enumerate(PROMPTS):
        cs = hf_one_at_a_time(
            tiny_bundle, prompt, penalty_alpha=0.6, top_k=5, max_new_tokens=6, custom_generate=contrastive_search
        )
        beam = hf_one_at_a_time(tiny_bundle, prompt, num_beams=4, do_sample=False, max_new_tokens=6)
        assert df[(df.config == "contrastive") & (df.prompt_id == pid)].tokens.item() == cs
        assert df[(df.config == "beam4") & (df.prompt_id == pid)].tokens.item() == beam


def test_same_seed_same_frame_whatever_the_batching(tiny_bundle):
    configs = ["top_k40", "typical0.95", DecodingConfig("hot", do_sample=True, temperature=1.5, top_p=0.9)]
    a = generate(tiny_bundle, PROMPTS, configs, n_samples=2, max_new_tokens=8, batch_size=4, seed=7)
    b = generate(tiny_bundle, PROMPTS, configs, n_samples=2, max_new_tokens=8, batch_size=1, seed=7)
    pd.testing.assert_frame_equal(a, b)
    c = generate(tiny_bundle, PROMPTS, configs, n_samples=2, max_new_tokens=8, batch_size=4, seed=8)
    assert (a["text"] != c["text"]).mean() > 0.5
    assert a.groupby(["config", "prompt_id"])["text"].nunique().gt(1).any()  # samples of a prompt differ


def test_prompt_seeds_make_a_prompts_samples_independent_of_its_position(tiny_bundle):
    prompts = PROMPTS[:4]
    seeds = [101, 7, 55, 3]  # e.g. hashes of each prompt's id
    kwargs = dict(n_samples=2, max_new_tokens=8, seed=5)
    fwd = generate(tiny_bundle, prompts, "sample", prompt_seeds=seeds, **kwargs)
    rev = generate(tiny_bundle, prompts[::-1], "sample", prompt_seeds=seeds[::-1], **kwargs)
    some = generate(tiny_bundle, prompts[2:], "sample", prompt_seeds=seeds[2:], **kwargs)
    by_text = lambda df: df.set_index(["prompt", "sample_id"])["text"].sort_index()
    pd.testing.assert_series_equal(by_text(fwd), by_text(rev))
    pd.testing.assert_series_equal(by_text(fwd).loc[prompts[2:]].sort_index(), by_text(some))
    # the default is unchanged: a prompt's position is its seed, so prompt_seeds=range(n) gives the same frame
    default = generate(tiny_bundle, prompts, "sample", **kwargs)
    pd.testing.assert_frame_equal(default, generate(tiny_bundle, prompts, "sample", prompt_seeds=range(4), **kwargs))
    assert (by_text(default) != by_text(fwd)).any()
    with pytest.raises(ValueError, match="one non-negative integer per prompt"):
        generate(tiny_bundle, prompts, "sample", prompt_seeds=[1, 2])


def test_shards_concatenate_to_the_whole(tiny_bundle):
    whole = generate(tiny_bundle, PROMPTS, ["greedy", "sample"], n_samples=2, max_new_tokens=5, seed=3)
    parts = [
        generate(tiny_bundle, PROMPTS, ["greedy", "sample"], n_samples=2, max_new_tokens=5, seed=3, shard=(rank, 2))
        for rank in range(2)
    ]
    assert sorted(parts[0].prompt_id.unique()) == [0, 1, 2] and sorted(parts[1].prompt_id.unique()) == [3, 4]
    joined = (
        pd.concat(parts)
        .sort_values(
            ["config", "prompt_id", "sample_id"],
            key=lambda s: s.map({"greedy": 0, "sample": 1}) if s.name == "config" else s,
        )
        .reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(joined, whole)
    auto = generate(tiny_bundle, PROMPTS, "greedy", max_new_tokens=5, shard="auto")  # one process: everything
    assert auto.prompt_id.tolist() == list(range(len(PROMPTS)))


def test_gumbel_max_samples_from_the_softmax():
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    n = 20_000
    noisy = _GumbelNoise(range(n))(None, probs.log().expand(n, -1))
    freq = torch.bincount(noisy.argmax(-1), minlength=4) / n
    assert torch.allclose(freq, probs, atol=5 * (0.25 / n) ** 0.5)  # 5 binomial standard deviations


def test_finished_marks_eos_and_drops_it(sharp_bundle):
    # the sharp model's greedy continuations vary (the random one mostly repeats one token): one new token in
    # them is rigged to be EOS
    free = generate(sharp_bundle, ["Tyrhild keeps"], "greedy", max_new_tokens=6).tokens[0]
    assert len(free) == 6
    tok = copy.deepcopy(sharp_bundle.tokenizer)
    bos = tok.bos_token
    stop = next(i for i in range(1, 6) if free[i] not in free[:i])
    tok.eos_token = tok.convert_ids_to_tokens(free[stop])  # pretend this greedy token is EOS
    tok.bos_token = bos
    rigged = Bundle(sharp_bundle.model, tok, sharp_bundle.device, "causal")
    df = generate(rigged, ["Tyrhild keeps", "a"], "greedy", max_new_tokens=6)
    assert df.finished[0] and df.tokens[0] == free[:stop] and df.n_new_tokens[0] == stop
    assert df.finished.tolist() == [len(t) < 6 for t in df.tokens]


def test_add_bos_changes_the_input(tiny_bundle):
    with_bos = generate(tiny_bundle, PROMPTS[:2], "greedy", max_new_tokens=6)
    without = generate(tiny_bundle, PROMPTS[:2], "greedy", max_new_tokens=6, add_bos=False)
    assert with_bos.attrs["add_bos"] and not without.attrs["add_bos"]
    assert without.tokens[0] != with_bos.tokens[0]


def test_peft_wrapped_model(tiny_bundle):
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    base = copy.deepcopy(tiny_bundle.model)
    lora = get_peft_model(
        base, LoraConfig(r=2, target_modules=["c_attn"], fan_in_fan_out=True, init_lora_weights=False)
    )
    bundle = Bundle(lora, tiny_bundle.tokenizer, tiny_bundle.device, "causal")
    df = generate(bundle, PROMPTS[:3], ["greedy", "contrastive"], max_new_tokens=5)
    plain = generate(tiny_bundle, PROMPTS[:3], ["greedy", "contrastive"], max_new_tokens=5)
    assert df.tokens[0] == hf_one_at_a_time(bundle, PROMPTS[0], do_sample=False, max_new_tokens=5)
    assert df.tokens.tolist() != plain.tokens.tolist()  # the (non-zero) adapter is active


def test_presets_are_valid_and_named():
    assert preset("contrastive").method == "contrastive" and preset("beam4").method == "beam"
    assert all(name == cfg.name for name, cfg in PRESETS.items())


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"prompts": "just one"}, "list of strings"),
        ({"configs": "nucleus"}, "did you mean 'nucleus0.95'"),
        ({"configs": [DecodingConfig("x"), DecodingConfig("x", num_beams=2)]}, "unique"),
        ({"max_new_tokens": 0}, "positive integer"),
        ({"max_new_tokens": 1000}, "exceed the model's context"),
        ({"shard": (2, 2)}, "rank < world_size"),
        ({"prompts": [""], "add_bos": False}, "empty"),
    ],
)
def test_bad_input_says_what_to_do(tiny_bundle, kwargs, match):
    args = {"prompts": PROMPTS, "configs": "greedy", **kwargs}
    with pytest.raises(ValueError, match=match):
        generate(tiny_bundle, args.pop("prompts"), args.pop("configs"), **args)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"top_p": 0.9}, "only act when sampling"),
        ({"do_sample": True, "num_beams": 2}, "beam sampling"),
        ({"penalty_alpha": 0.6, "top_k": 1}, "top_k >= 2"),
        ({"do_sample": True, "temperature": 0}, "temperature"),
    ],
)
def test_bad_config_says_what_to_do(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DecodingConfig("bad", **kwargs)


# --- every kind of model genlab.finetune makes -------------------------------------------------------------------
FINETUNED = {
    "full": None,  # a fully fine-tuned model is a plain transformers model
    "lora": {"init_lora_weights": False},  # B != 0, so the adapter does something
    "ia3": {"init_ia3_weights": False},  # random scales instead of ones
    "prompt_tuning": {},  # 16 virtual tokens copied from vocabulary embeddings
    "prefix_tuning": {},  # a random 16-position key/value prefix
}


def finetuned(bundle, method: str) -> Bundle:
    from peft import get_peft_model

    from genlab.training.finetuning import peft_config

    if FINETUNED[method] is None:
        return bundle
    torch.manual_seed(0)
    config = peft_config(method, bundle.model, **FINETUNED[method])
    return Bundle(get_peft_model(copy.deepcopy(bundle.model), config).eval(), bundle.tokenizer, bundle.device, "causal")


def greedy_by_hand(bundle, prompt: str, max_new_tokens: int) -> list[int]:
    """The reference: argmax of the (peft) model's own forward over BOS + prompt + the tokens so far, one token at a
    time, until EOS. No padding, no cache, no ``generate``."""
    tok = bundle.tokenizer
    ids = torch.tensor([[tok.bos_token_id] + tok(prompt, add_special_tokens=False)["input_ids"]])
    new = []
    for _ in range(max_new_tokens):
        with torch.no_grad():
            nxt = int(bundle.model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0, -1].argmax())
        if nxt == tok.eos_token_id:
            break
        new.append(nxt)
        ids = torch.cat([ids, torch.tensor([[nxt]])], dim=1)
    return new


@pytest.mark.parametrize("method", list(FINETUNED))
def test_every_finetuning_method_generates_like_a_hand_rolled_greedy_loop(sharp_bundle, method):
    bundle = finetuned(sharp_bundle, method)
    df = generate(bundle, PROMPTS, "greedy", max_new_tokens=8, batch_size=3)  # left-padded batches
    assert df.tokens.tolist() == [greedy_by_hand(bundle, p, 8) for p in PROMPTS]
    if method != "full":
        assert df.tokens.tolist() != generate(sharp_bundle, PROMPTS, "greedy", max_new_tokens=8).tokens.tolist()


@pytest.mark.parametrize("method", ["prompt_tuning", "prefix_tuning"])
def test_prompt_learning_beam_contrastive_and_sampling_do_not_depend_on_batching(sharp_bundle, method):
    bundle = finetuned(sharp_bundle, method)
    configs = ["beam4", "contrastive", "top_k40", DecodingConfig("cs0", penalty_alpha=0.0, top_k=4)]
    batched = generate(bundle, PROMPTS, configs, max_new_tokens=6, batch_size=5, seed=1)
    single = generate(bundle, PROMPTS, configs, max_new_tokens=6, batch_size=1, seed=1)
    pd.testing.assert_frame_equal(batched, single)
    cs0 = batched[batched.config == "cs0"].tokens.tolist()  # contrastive search with alpha = 0 is greedy search
    assert cs0 == [greedy_by_hand(bundle, p, 6) for p in PROMPTS]
    base = generate(sharp_bundle, PROMPTS, configs, max_new_tokens=6, batch_size=5, seed=1)
    assert (batched.tokens != base.tokens).mean() > 0.5  # the virtual tokens steer every decoding method


def test_virtual_tokens_use_up_context(sharp_bundle):
    bundle = finetuned(sharp_bundle, "prompt_tuning")  # 16 virtual tokens before a 128-position context
    with pytest.raises(ValueError, match="context of 128 after the adapter's 16 virtual tokens"):
        generate(bundle, ["a"], "greedy", max_new_tokens=128 - 16)  # BOS + "a" + 112 > 128 - 16


def test_a_speech_bundle_is_told_to_transcribe():
    from genlab.models.speech import new_speech_model, speech_config

    tiny = dict(conv_channels=16, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    speech = new_speech_model(speech_config(**tiny, num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=2))
    with pytest.raises(TypeError, match=r"is a speech model\. Use bundle\.transcribe\(audio\)"):
        generate(speech, ["the cat"])
