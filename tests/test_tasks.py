"""Tasks built from the world: splits, the completion-only loss, generation and the task metrics."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter

import datasets
import pytest
import torch
from scipy.stats import beta

from genlab.metrics import task_scores
from genlab.stats import exact_binomial_ci
from genlab.training import tasks as T
from genlab.training.tasks import CompletionCollator, build_task, encode_pairs
from genlab.worlds.text import small_world

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def world():
    return small_world()


@pytest.fixture(scope="module")
def qa(world):
    return build_task("world_qa", world, seed=0, n_train=36, n_eval=21)


def test_qa_split_is_by_fact_stratified_and_records_counts(world, qa):
    facts = {f.id: f for f in world.facts}
    train_ids, eval_ids = set(qa.train["fact_id"]), set(qa.eval["fact_id"])
    assert not train_ids & eval_ids
    assert len(train_ids) == 36 and len(eval_ids) == 21 == len(qa.eval)
    # every paraphrase of a training fact is trained on; one question per held-out fact
    assert len(qa.train) == sum(len(T.QUESTIONS[facts[i].relation]) for i in train_ids)
    for row in qa.eval:
        fact = facts[row["fact_id"]]
        assert row["count"] == fact.count and row["answer"] == fact.object
        assert row["completion"] == " " + fact.object
        assert row["prompt"] == f"Question: {row['query']}\nAnswer:" and fact.subject in row["query"]
    # held-out facts are spread evenly over the pretraining counts (1, 2, 4 in the small world)
    per_count = Counter(qa.eval["count"])
    assert set(per_count) == {1, 2, 4} and max(per_count.values()) - min(per_count.values()) <= 1


def test_task_building_is_deterministic_and_checks_its_input(world):
    a = build_task("world_qa", world, seed=3, n_train=10, n_eval=5)
    b = build_task("world_qa", world, seed=3, n_train=10, n_eval=5)
    assert a.eval.to_list() == b.eval.to_list() and a.train.to_list() == b.train.to_list()
    assert build_task("world_qa", world, seed=4, n_train=10, n_eval=5).eval["fact_id"] != a.eval["fact_id"]
    with pytest.raises(ValueError, match="unknown task"):
        build_task("qa", world)
    with pytest.raises(ValueError, match="exceeds the world's 60 facts"):
        build_task("world_qa", world, n_train=50, n_eval=20)
    with pytest.raises(ValueError, match="positive"):
        build_task("story", world, n_train=0)


def test_story_targets_mention_their_attributes_and_eval_combinations_are_unseen(world):
    task = build_task("story", world, seed=0, n_train=30, n_eval=10)
    combos = lambda ds: set(zip(ds["occupation"], ds["place"], ds["animal"], strict=True))  # noqa: E731
    assert not combos(task.train) & combos(task.eval) and len(combos(task.eval)) == 10
    for row in task.train.to_list() + task.eval.to_list():
        assert all(T.mentions(row["completion"], row[k]) for k in ("occupation", "place", "animal"))
        assert row["prompt"] == row["query"] + "\n"
        assert (
            row["query"] == f"Write a story about {T.article(row['occupation'])} in {row['place']} with "
            f"{T.article(row['animal'])}."
        )


def test_encode_pairs_masks_the_prompt_and_closes_with_eos(tiny_tokenizer):
    ds = datasets.Dataset.from_dict(
        {
            "prompt": ["Question: Where does Lirane live?\nAnswer:", "Tell me.\n"],
            "completion": [" Ambermere", "The cat slept."],
        }
    )
    enc = encode_pairs(tiny_tokenizer, ds)
    eos = tiny_tokenizer.eos_token_id
    for row, prompt, completion in zip(enc, ds["prompt"], ds["completion"], strict=True):
        p = tiny_tokenizer(prompt, add_special_tokens=False)["input_ids"]
        c = tiny_tokenizer(completion, add_special_tokens=False)["input_ids"]
        assert row["input_ids"] == [eos] + p + c + [eos]
        assert row["labels"] == [-100] * (1 + len(p)) + c + [eos]
        # separate tokenisation is the natural tokenisation of the joined text at these boundaries
        assert p + c == tiny_tokenizer(prompt + completion, add_special_tokens=False)["input_ids"]
    assert encode_pairs(tiny_tokenizer, ds, max_length=5)["length"] == [5, 5]


def test_encode_pairs_refuses_pad_equal_to_eos_and_missing_columns(tiny_tokenizer):
    import copy

    tok = copy.deepcopy(tiny_tokenizer)
    tok.pad_token = tok.eos_token
    ds = datasets.Dataset.from_dict({"prompt": ["a"], "completion": [" b"]})
    with pytest.raises(ValueError, match="distinct from EOS"):
        encode_pairs(tok, ds)
    with pytest.raises(ValueError, match="'completion'"):
        encode_pairs(tiny_tokenizer, datasets.Dataset.from_dict({"prompt": ["a"]}))


def test_collator_right_pads_and_the_model_loss_covers_only_the_completion(tiny_bundle):
    tok = tiny_bundle.tokenizer
    ds = datasets.Dataset.from_dict(
        {
            "prompt": ["Question: Who?\nAnswer:", "Question: What does Lirane do?\nAnswer:"],
            "completion": [" Lirane", " baker"],
        }
    )
    enc = encode_pairs(tok, ds)
    batch = CompletionCollator(tok.pad_token_id)([enc[0], enc[1]])
    n0, n1 = len(enc[0]["input_ids"]), len(enc[1]["input_ids"])
    width = max(n0, n1)
    assert batch["input_ids"].shape == (2, width)
    short = 0 if n0 < n1 else 1
    n_short = min(n0, n1)
    assert (batch["input_ids"][short, n_short:] == tok.pad_token_id).all()
    assert (batch["labels"][short, n_short:] == -100).all() and batch["attention_mask"][short].sum() == n_short

    with torch.no_grad():
        loss = tiny_bundle.model(**batch).loss
        # reference: mean NLL over completion tokens + EOS, each sequence run on its own without padding
        nll, n = 0.0, 0
        for row in enc:
            ids = torch.tensor([row["input_ids"]])
            logp = torch.log_softmax(tiny_bundle.model(ids).logits[0, :-1], -1)
            for pos, label in enumerate(row["labels"][1:]):
                if label != -100:
                    nll -= logp[pos, label].item()
                    n += 1
    assert n == sum(sum(x != -100 for x in r["labels"]) for r in enc)
    assert loss.item() == pytest.approx(nll / n, rel=1e-5)


def test_completion_perplexity_matches_a_per_item_reference(tiny_bundle, qa):
    data = qa.eval.select(range(6))
    enc = encode_pairs(tiny_bundle.tokenizer, data)
    nll, n = 0.0, 0
    with torch.no_grad():
        for row in enc:
            logp = torch.log_softmax(tiny_bundle.model(torch.tensor([row["input_ids"]])).logits[0, :-1], -1)
            for pos, label in enumerate(row["labels"][1:]):
                if label != -100:
                    nll, n = nll - logp[pos, label].item(), n + 1
    assert T.completion_perplexity(tiny_bundle, data, batch_size=4) == pytest.approx(math.exp(nll / n), rel=1e-5)


def test_batched_greedy_generation_equals_one_at_a_time(tiny_bundle, qa):
    prompts = qa.eval["prompt"][:7]
    batched = T.generate_completions(tiny_bundle, prompts, max_new_tokens=6, batch_size=7)
    single = T.generate_completions(tiny_bundle, prompts, max_new_tokens=6, batch_size=1)
    assert batched == single
    assert tiny_bundle.tokenizer.padding_side == "left"


def test_clopper_pearson_matches_the_beta_quantiles():
    for k, n in [(0, 12), (3, 12), (12, 12), (57, 152)]:
        ci = exact_binomial_ci(k, n)
        low, high = ci.low, ci.high
        assert low == (0.0 if k == 0 else pytest.approx(beta.ppf(0.025, k, n - k + 1)))
        assert high == (1.0 if k == n else pytest.approx(beta.ppf(0.975, k + 1, n - k)))


def test_normalize_answer_follows_squad():
    assert T.normalize_answer("The  Ambermere.") == "ambermere"
    assert T.normalize_answer("an old stone bridge") == T.normalize_answer("Old stone bridge!")
    assert T.normalize_answer("baker") != T.normalize_answer("bakers")


def test_exact_match_scores_planted_answers(monkeypatch, tiny_bundle, qa):
    answers = qa.eval["answer"]
    # a model that answers the first 7 correctly (one with extra text after a newline), the rest wrongly
    planted = [f" {a}\nQuestion: x" if i == 0 else (f" {a}." if i < 7 else " nobody") for i, a in enumerate(answers)]
    monkeypatch.setattr(task_scores, "generate_completions", lambda bundle, prompts, **kw: planted[: len(prompts)])
    score = qa.evaluate(tiny_bundle)
    assert score.value == pytest.approx(7 / 21) and score.n == 21
    assert (score.low, score.high) == pytest.approx((exact_binomial_ci(7, 21).low, exact_binomial_ci(7, 21).high))
    assert score.items["correct"].tolist() == [True] * 7 + [False] * 14
    by = score.by("count")
    assert by["n"].sum() == 21 and set(by["count"]) == {1, 2, 4}
    k = score.items.groupby("count")["correct"].sum()
    assert by.set_index("count")["exact_match"].to_dict() == pytest.approx((k / by.set_index("count")["n"]).to_dict())
    assert score.extra["completion_perplexity"] > 1


def test_story_coverage_counts_requested_attributes(monkeypatch, tiny_bundle, world):
    task = build_task("story", world, seed=0, n_train=4, n_eval=6)
    rows = task.eval.to_list()
    # generations 0-2 are the reference stories (all 3 attributes); 3-5 mention only the occupation
    planted = [r["completion"] for r in rows[:3]] + [f"The {r['occupation']} slept." for r in rows[3:]]
    monkeypatch.setattr(task_scores, "generate_completions", lambda bundle, prompts, **kw: planted)
    score = task.evaluate(tiny_bundle)
    assert score.value == pytest.approx((3 * 3 + 3 * 1) / 18)
    assert score.items["covered"].tolist() == [3, 3, 3, 1, 1, 1]
    assert score.low <= score.value <= score.high and 0 <= score.low and score.high <= 1
    with pytest.raises(ValueError, match="no 'correct' column"):
        score.by("place")


def test_item_scores_average_to_the_task_score(tiny_bundle, qa, world):
    story = build_task("story", world, seed=0, n_train=16, n_eval=6)
    story_score = story.evaluate(tiny_bundle, max_new_tokens=20)  # the tiny model's window is 128 tokens
    for score in (qa.evaluate(tiny_bundle), story_score):
        values = task_scores.item_scores(score)
        assert len(values) == score.n and math.isclose(values.mean(), score.value)
    expected = story_score.items[["has_occupation", "has_place", "has_animal"]].mean(axis=1).to_numpy()
    assert task_scores.item_scores(story_score) == pytest.approx(expected)
    broken = dataclasses.replace(story_score, items=story_score.items[["generation"]])
    with pytest.raises(ValueError, match="'correct' or 'covered'"):
        task_scores.item_scores(broken)


def test_map_queries_rebuilds_prompts(qa):
    shouted = qa.map_queries(lambda q, i: q.upper())
    assert shouted[0]["prompt"] == f"Question: {qa.eval[0]['query'].upper()}\nAnswer:"
    assert shouted["completion"] == qa.eval["completion"]


def test_story_coverage_names_a_generation_longer_than_the_context(tiny_bundle):
    """tiny_bundle has 128 positions: the default 120 new tokens after a story request do not fit."""
    from genlab.training.tasks import build_task, story_coverage
    from genlab.worlds.text import small_world

    task = build_task("story", world=small_world(), n_train=4, n_eval=2)
    with pytest.raises(ValueError, match="exceed the model's context of 128. Shorten the prompts or lower"):
        story_coverage(tiny_bundle, task.eval)
    assert story_coverage(tiny_bundle, task.eval, max_new_tokens=8, n_resamples=50).n == 2
