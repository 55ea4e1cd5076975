"""genlab.probes.cloze: factual recall of the genlab world by cloze probes (the hallucination rate of free text is
tests/metrics/test_hallucination.py)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch

from genlab.metrics.hallucination import relation_objects
from genlab.probes import cloze as F
from genlab.probes.registry import get_probe
from genlab.stats import exact_binomial_ci
from genlab.worlds.text import small_world
from genlab.worlds.text_spec import N_TRAIN_TEMPLATES, RELATION_TEMPLATES


@pytest.fixture(scope="module")
def world():
    return small_world()


@pytest.fixture(scope="module")
def probes(world):
    return F.cloze_probes(world)


# --- probes ------------------------------------------------------------------------------------------------------
def test_probes_rebuild_every_fact_sentence(world, probes):
    facts = {f.id: f for f in world.facts}
    assert len(probes) == N_TRAIN_TEMPLATES * len(world.facts)  # the held-out template is asked only on request
    assert len({p.id for p in probes}) == len(probes)
    for p in probes:
        fact = facts[p.fact_id]
        assert p.prompt + " " + p.answer + p.suffix == fact.sentence(p.template)
        assert p.count == fact.count and p.object == fact.object
        # candidates: every other object of the relation, written like the answer, once each
        others = {o for o in relation_objects(world, p.relation) if o != p.object}
        uses_article = "{a_o}" in RELATION_TEMPLATES[p.relation][p.template]
        assert sorted(p.candidates) == sorted(F.article(o) if uses_article else o for o in others)
        assert p.answer not in p.candidates


def test_canonical_probes_are_template_zero(world):
    canonical = F.cloze_probes(world, templates="canonical")
    assert [p.fact_id for p in canonical] == [f.id for f in world.facts]
    assert {p.template for p in canonical} == {0}
    with pytest.raises(ValueError, match="'all', 'canonical', 'heldout'"):
        F.cloze_probes(world, templates="first")


# --- ranking and matching logic, without a model -----------------------------------------------------------------
@pytest.mark.parametrize("k", [2, 4])
def test_planted_threshold_is_found_by_both_scorings(world, probes, k):
    """A model that knows exactly the facts seen >= k times: accuracy 0 below k and 1 from k on, per bucket."""
    scores = F.score_cloze(F.FactOracle(world, min_count=k), probes)
    for column in ("correct", "exact_match"):
        table = F.accuracy_by_count(scores, column=column)
        assert table["count"].tolist() == sorted(set(world.config.fact_counts))
        expected = [0.0 if c < k else 1.0 for c in table["count"]]
        assert table["accuracy"].tolist() == expected
        assert (table["n"] == scores.groupby("count").size().to_numpy()).all()
    wrong = scores[scores["count"] < k]
    assert (wrong["rank"] == wrong["n_options"]).all()  # the truth scores lowest of all


class LengthScorer:
    """Prefers short continuations: log p = -len(continuation). Greedy writes nothing useful."""

    def continuation_logprobs(self, prompts, continuations):
        return [[-float(len(c)) for c in conts] for conts in continuations]

    def greedy(self, prompts, max_new_tokens):
        return [" ?" for _ in prompts]


def test_rank_counts_options_scoring_higher_or_equal(world, probes):
    df = F.candidate_ranking(LengthScorer(), probes)
    for p, row in zip(probes, df.itertuples(), strict=True):
        n_not_worse = sum(len(c) <= len(p.answer) for c in p.candidates)  # ties count against the model
        assert row.rank == 1 + n_not_worse
        assert row.reciprocal_rank == pytest.approx(1 / (1 + n_not_worse))
        assert row.correct == (n_not_worse == 0)
        assert row.n_options == 1 + len(p.candidates) and row.chance == pytest.approx(1 / row.n_options)
        assert row.logprob == -len(" " + p.answer)


def test_uniform_scores_get_no_credit(world, probes):
    class Uniform(LengthScorer):
        def continuation_logprobs(self, prompts, continuations):
            return [[-1.0] * len(c) for c in continuations]

    df = F.candidate_ranking(Uniform(), probes)
    assert (df["rank"] == df["n_options"]).all() and not df["correct"].any()
    assert not F.generation_exact_match(Uniform(), probes)["exact_match"].any()


@pytest.mark.parametrize(
    "generation, expected",
    [
        (" Cinderfold.", "Cinderfold"),
        ("cinderfold", "Cinderfold"),
        ("  CINDERFOLD ,where she", "Cinderfold"),
        (" Cinderfolds.", None),
        (" in Cinderfold.", None),
        (" fish stew.", "fish stew"),
        (" fish, then stew", "fish"),
        (" pigeon and a pig", None),
        (" a\n fisher by trade", "a fisher"),
        (" an fisher", None),
    ],
)
def test_match_option_rule(generation, expected):
    assert F.match_option(generation, ["Cinderfold", "fish", "fish stew", "pig", "a fisher"]) == expected


def test_clopper_pearson_matches_closed_form_at_the_edges():
    # k = 0: upper = 1 - (alpha/2)^(1/n); k = n: lower = (alpha/2)^(1/n) (Clopper & Pearson 1934)
    for n in (1, 5, 20):
        ci = exact_binomial_ci(0, n)
        assert ci.low == 0.0 and ci.high == pytest.approx(1 - 0.025 ** (1 / n))
        ci = exact_binomial_ci(n, n)
        assert ci.low == pytest.approx(0.025 ** (1 / n)) and ci.high == 1.0


def test_accuracy_by_count_groups_and_checks_columns():
    df = pd.DataFrame({"count": [1, 1, 2, 2], "relation": ["a", "b", "a", "a"], "correct": [True, False, True, True]})
    t = F.accuracy_by_count(df, by=["relation"])
    assert t[["relation", "count", "n", "k"]].values.tolist() == [["a", 1, 1, 1], ["a", 2, 2, 2], ["b", 1, 1, 0]]
    with pytest.raises(ValueError, match="exact_match"):
        F.accuracy_by_count(df, column="exact_match")


def test_bad_inputs_raise_clear_errors(world, probes, tiny_bundle):
    with pytest.raises(ValueError, match="no probes"):
        F.candidate_ranking(F.FactOracle(world, 1), [])
    with pytest.raises(ValueError, match="Bundle"):
        F.candidate_ranking(object(), probes)
    seq2seq = copy.copy(tiny_bundle)
    seq2seq.kind = "seq2seq"
    with pytest.raises(ValueError, match="causal or masked"):
        F.BundleLM(seq2seq)
    masked = copy.copy(tiny_bundle)
    masked.kind = "masked"
    with pytest.raises(ValueError, match="need a causal language model"):
        F.BundleLM(masked).greedy(["Guntha lives in"], 3)


# --- the Bundle adapter on a real (random) model -------------------------------------------------------------------
def _naive_logprobs(bundle, prompt: str, continuations: list[str]) -> list[float]:
    """Reference: BOS + prompt + continuation as ordinary right-padded causal sequences, one per continuation.
    The logits of the last ``width`` positions: a prompt-tuned peft model puts its virtual tokens' first."""
    tok = bundle.tokenizer
    ids = [tok.bos_token_id] + tok(prompt, add_special_tokens=False)["input_ids"]
    conts = [tok(c, add_special_tokens=False)["input_ids"] for c in continuations]
    width = len(ids) + max(map(len, conts))
    batch = torch.tensor([ids + c + [tok.pad_token_id] * (width - len(ids) - len(c)) for c in conts])
    mask = torch.tensor([[1] * (len(ids) + len(c)) + [0] * (width - len(ids) - len(c)) for c in conts])
    with torch.no_grad():
        logits = bundle.model(input_ids=batch, attention_mask=mask).logits[:, -width:]
        logp = torch.log_softmax(logits.float(), dim=-1)
    return [sum(logp[r, len(ids) - 1 + k, t].item() for k, t in enumerate(c)) for r, c in enumerate(conts)]


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_tree_batched_scores_equal_one_sequence_at_a_time(tiny_bundle, probes, attn):
    bundle = copy.copy(tiny_bundle)
    bundle.model = copy.deepcopy(tiny_bundle.model)
    bundle.model.set_attn_implementation(attn)
    picked = [probes[i] for i in range(0, len(probes), 23)]  # every relation, several templates and lengths
    prompts = [p.prompt for p in picked]
    conts = [[" " + o + p.suffix for o in p.options] for p in picked]  # with the "." to get multi-token options
    fast = F.BundleLM(bundle, batch_size=3).continuation_logprobs(prompts, conts)
    for prompt, cs, scores in zip(prompts, conts, fast, strict=True):
        assert scores == pytest.approx(_naive_logprobs(bundle, prompt, cs), abs=1e-4)


class _WithoutLogitsToKeep(torch.nn.Module):
    """A causal LM whose forward() knows no ``logits_to_keep``: scoring falls back to full logits."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, input_ids, position_ids=None, attention_mask=None, use_cache=False):
        return self.inner(input_ids=input_ids, position_ids=position_ids, attention_mask=attention_mask)


def test_models_without_logits_to_keep_score_the_same(tiny_bundle, probes):
    picked = probes[::31]
    prompts, conts = [p.prompt for p in picked], [[" " + o for o in p.options] for p in picked]
    plain = copy.copy(tiny_bundle)
    plain.model = _WithoutLogitsToKeep(tiny_bundle.model)
    expected = F.BundleLM(tiny_bundle).continuation_logprobs(prompts, conts)
    got = F.BundleLM(plain).continuation_logprobs(prompts, conts)
    for a, b in zip(got, expected, strict=True):
        assert a == pytest.approx(b, abs=1e-5)


def test_batched_greedy_equals_one_prompt_at_a_time(tiny_bundle, probes):
    lm = F.BundleLM(tiny_bundle, batch_size=8)
    prompts = [p.prompt for p in probes[::17]]  # different lengths in one batch: left padding must not matter
    batched = lm.greedy(prompts, max_new_tokens=5)
    tok = tiny_bundle.tokenizer
    for prompt, text in zip(prompts, batched, strict=True):
        ids = torch.tensor([[tok.bos_token_id] + tok(prompt, add_special_tokens=False)["input_ids"]])
        out = tiny_bundle.model.generate(
            ids, attention_mask=torch.ones_like(ids), max_new_tokens=5, do_sample=False, pad_token_id=tok.pad_token_id
        )
        assert text == tok.decode(out[0, ids.shape[1] :], skip_special_tokens=True)


@pytest.mark.parametrize("method", ["lora", "prompt_tuning", "prefix_tuning"])
def test_peft_models_score_and_generate_like_their_own_forward(tiny_bundle, probes, method):
    from peft import get_peft_model

    from genlab.models import Bundle
    from genlab.training.finetuning import peft_config

    torch.manual_seed(0)
    options = {"init_lora_weights": False} if method == "lora" else {}
    model = get_peft_model(copy.deepcopy(tiny_bundle.model), peft_config(method, tiny_bundle.model, **options))
    bundle = Bundle(model.eval(), tiny_bundle.tokenizer, tiny_bundle.device, "causal")
    picked = probes[::37]
    prompts, conts = [p.prompt for p in picked], [[" " + o + p.suffix for o in p.options] for p in picked]
    lm = F.BundleLM(bundle, batch_size=3)
    for prompt, cs, scores in zip(prompts, conts, lm.continuation_logprobs(prompts, conts), strict=True):
        assert scores == pytest.approx(_naive_logprobs(bundle, prompt, cs), abs=1e-4)
    tok = bundle.tokenizer
    for prompt, text in zip(prompts, lm.greedy(prompts, max_new_tokens=4), strict=True):  # by hand: argmax, 4 times
        ids = torch.tensor([[tok.bos_token_id] + tok(prompt, add_special_tokens=False)["input_ids"]])
        for _ in range(4):
            with torch.no_grad():
                nxt = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[:, -1].argmax(-1)
            ids = torch.cat([ids, nxt[:, None]], dim=1)
        new = ids[0, -4:].tolist()
        new = new[: new.index(tok.eos_token_id)] if tok.eos_token_id in new else new
        assert text == tok.decode(new, skip_special_tokens=True)


def test_score_cloze_on_a_bundle_is_tidy(tiny_bundle, world):
    probes = F.cloze_probes(world, templates="canonical")[:12]
    df = F.score_cloze(tiny_bundle, probes, batch_size=4)
    assert len(df) == 12 and df["id"].tolist() == [p.id for p in probes]
    assert df["rank"].between(1, df["n_options"]).all() and (df["logprob"] < 0).all()
    assert df["exact_match"].dtype == bool and df["correct"].dtype == bool

def test_probes_are_registered_with_their_meaning():
    for name in ("cloze_exact_match", "cloze_accuracy", "cloze_reciprocal_rank"):
        info = get_probe(name)
        assert info.inputs == "probes+model" and info.higher_is_better and info.slow and info.aggregation == "mean"


def test_registered_cloze_metrics_agree_with_the_frames(world):
    probes = F.cloze_probes(world, templates="canonical")
    oracle = F.FactOracle(world, min_count=2)
    df = F.score_cloze(oracle, probes)
    assert F.cloze_accuracy(oracle, probes) == df["correct"].astype(float).tolist()
    assert F.cloze_exact_match(oracle, probes) == df["exact_match"].astype(float).tolist()
    assert np.allclose(F.cloze_reciprocal_rank(oracle, probes), df["reciprocal_rank"])
