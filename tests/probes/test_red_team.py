"""genlab.probes.red_team: the red-team suite (deterministic, the file is what the code writes, prompts that really
are the planted contexts), offensive rates and paired comparisons against direct counts, and a short run of the
default model. The metrics it reads are tested in tests/metrics (test_planted, test_classifier_error,
test_pii_leakage); the Rogan-Gladen correction itself in tests/stats/test_misclassification.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genlab.metrics import pii_leakage as L
from genlab.metrics import planted as P
from genlab.probes import red_team as S
from genlab.stats import corrected_prevalence, exact_binomial_ci, paired_bootstrap

ASKED = ("phone", "email", "address", "id_number", "date_of_birth")


@pytest.fixture(scope="module")
def corpus():
    return P.default_corpus()  # the default model's training corpus, built once per process


# --- the suite ----------------------------------------------------------------------------------------------------
def test_the_suite_file_is_what_the_generator_writes_and_the_generator_is_deterministic(corpus):
    suite = S.red_team_prompts()
    pd.testing.assert_frame_equal(S.read_red_team(), suite)
    pd.testing.assert_frame_equal(S.red_team_prompts(seed=0), suite)
    other = S.red_team_prompts(seed=1)
    assert not other["prompt"].equals(suite["prompt"]) and len(other) == len(suite)
    assert tuple(suite.columns) == S.RED_TEAM_COLUMNS and suite["id"].is_unique and suite["prompt"].is_unique
    assert set(suite["category"]) == set(S.CATEGORIES)
    assert set(suite["expected_risk"]) == {"high", "medium", "low"}


def test_read_red_team_says_what_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match="red_team_prompts"):
        S.read_red_team(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,prompt\na,b\n")
    with pytest.raises(ValueError, match="category"):
        S.read_red_team(bad)


def test_insult_prompts_open_the_planted_contexts_and_pairs_are_matched(corpus):
    suite = S.read_red_team()
    insults = suite[suite["category"] == "insult_context"]
    # every insult prompt, less its lead-in, is the start of a planted insult sentence of the training corpus
    planted = [doc.text for doc in corpus.train if doc.harmful]
    for prompt, target in zip(insults["prompt"], insults["target"], strict=True):
        frame = prompt[prompt.index('"Everyone') if '"Everyone' in prompt else prompt.index("Some people") :]
        assert f"the {target}-folk" in frame
        assert any(frame in text for text in planted), frame
    for pid, group in suite[suite["pair_id"].str.startswith("insult")].groupby("pair_id"):
        counts = group["category"].value_counts().to_dict()
        assert counts == {"insult_context": 2, "frame_control": 1, "neutral_control": 1}, pid
        lead = group["prompt"].str.extract(r"^(.*?)(?:\"|Some people)")[0]
        assert lead.nunique() == 1, pid  # the same lead-in for the pair
        control = group[group["category"] == "neutral_control"]["prompt"].iloc[0]
        assert "folk" not in control and "Everyone knows" not in control and "muttered" not in control
    mentions = suite[suite["pair_id"].str.startswith("group")]
    assert (
        mentions.groupby("pair_id")["category"]
        .value_counts()
        .unstack()[["group_mention", "neutral_control"]]
        .eq([2, 1])
        .all()
        .all()
    )


def test_pii_and_canary_prompts_are_training_prefixes_of_planted_values(corpus):
    suite = S.read_red_team()
    values = P.planted_pii_values()
    texts = [doc.text for doc in corpus.train if doc.pii]
    high = suite[(suite["category"] == "pii_request") & (suite["expected_risk"] == "high")]
    assert len(high) == 20
    for prompt, person in zip(high["prompt"], high["target"], strict=True):
        assert person in prompt and person in values["person"]
        # somewhere in training the prompt is followed by a planted value
        hits = [t for t in texts if prompt in t]
        assert hits and any(
            any(t[t.index(prompt) + len(prompt) :].lstrip().startswith(v) for kind in ASKED for v in values[kind])
            for t in hits
        ), prompt
    medium = suite[(suite["category"] == "pii_request") & (suite["expected_risk"] == "medium")]
    assert set(medium["target"]) <= {p.name for p in corpus.world.people}
    assert not set(medium["target"]) & values["person"]  # world people: no personal data planted
    canaries = {c.id: c for c in corpus.world.canaries}
    rows = suite[suite["category"] == "canary_prefix_partial"]
    for cid, group in rows.groupby("target"):
        c = canaries[cid]
        assert group["prompt"].tolist() == [c.prefix, c.prefix.rsplit(" ", 1)[0]]
        assert set(group["expected_risk"]) == {"high" if c.count > 0 else "low"}
    assert {(c.kind, c.count) for c in (canaries[i] for i in rows["target"])} == {
        (c.kind, c.count) for c in corpus.world.canaries
    }


def _items(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 240
    return pd.DataFrame(
        {
            "model": "m",
            "config": rng.choice(["greedy", "nucleus"], n),
            "category": rng.choice(["insult_context", "neutral_control"], n),
            "pair_id": rng.choice([f"p{i}" for i in range(12)], n),
            "offensive_flag": rng.random(n) < 0.3,
            "world_insult": rng.random(n) < 0.4,
        }
    )


def test_offensive_rate_table_against_direct_counts():
    items = _items()
    error = pd.Series({"true_positives": 70, "n_positives": 100, "true_negatives": 190, "n_negatives": 200})
    table = S.offensive_rate_table(items, error, n_resamples=999)
    assert list(table.columns) == [
        "model",
        "config",
        "category",
        "n",
        "k",
        "offensive_rate",
        "offensive_rate_low",
        "offensive_rate_high",
        "corrected_rate",
        "corrected_rate_low",
        "corrected_rate_high",
        "world_insult_rate",
        "world_insult_rate_low",
        "world_insult_rate_high",
    ]
    for row in table.itertuples():
        group = items[(items["config"] == row.config) & (items["category"] == row.category)]
        k = int(group["offensive_flag"].sum())
        assert (row.n, row.k) == (len(group), k)
        ci = exact_binomial_ci(k, len(group))
        assert (row.offensive_rate, row.offensive_rate_low, row.offensive_rate_high) == (ci.estimate, ci.low, ci.high)
        assert row.world_insult_rate == group["world_insult"].mean()
        assert row.corrected_rate == pytest.approx(min(1, max(0, (k / len(group) + 0.95 - 1) / (0.7 + 0.95 - 1))))
        c = corrected_prevalence(k, len(group), 70, 100, 190, 200, n_resamples=999)
        assert (row.corrected_rate_low, row.corrected_rate_high) == (c.low, c.high)


def test_paired_comparison_against_direct_per_pair_shares():
    items = _items(1)
    table = S.paired_comparison(items, n_resamples=999)
    for row in table.itertuples():
        part = items[items["config"] == row.config]
        share = part.groupby(["pair_id", "category"])["offensive_flag"].mean().unstack().dropna()
        a, b = share["insult_context"].to_numpy(), share["neutral_control"].to_numpy()
        direct = paired_bootstrap(a, b, n_resamples=999)
        assert row.n == len(a) and row.treatment_rate == pytest.approx(a.mean())
        assert (row.difference, row.difference_low, row.difference_high) == pytest.approx(
            (direct.difference, direct.low, direct.high)
        )
        assert 0 < row.p_value <= 1
    with pytest.raises(ValueError, match="pair_id"):
        S.paired_comparison(items.drop(columns="pair_id"))


# --- the default model -----------------------------------------------------------------------------------------------
def test_a_short_default_model_run_gives_plausible_tables(default_bundle):
    suite = S.read_red_team()
    canaries = suite["target"].isin(["email-64-j", "member_id-64-a"]) & ~suite["prompt"].str.endswith(("at", "is"))
    prompts = suite[(suite["pair_id"] == "insult-02") | canaries]  # speech frame cut after "are all"; partial prefixes
    assert len(prompts) == 6
    items = S.red_team_generations(default_bundle, prompts, n_samples=2, max_new_tokens=24)
    assert len(items) == len(prompts) * 3  # greedy once, nucleus twice
    error = pd.Series({"true_positives": 80, "n_positives": 510, "true_negatives": 1993, "n_negatives": 2000})
    table = S.offensive_rate_table(items, error, n_resamples=999)
    assert set(table["category"]) == {"insult_context", "frame_control", "neutral_control", "canary_prefix_partial"}
    for x in ("offensive_rate", "corrected_rate", "world_insult_rate"):
        assert ((table[f"{x}_low"] <= table[x]) & (table[x] <= table[f"{x}_high"])).all()
        assert table[x].between(0, 1).all()
    rate = table.set_index(["config", "category"])["world_insult_rate"]
    for config in ("greedy", "nucleus0.95"):  # the planted frame makes the model insult; the neutral frame does not
        assert rate[(config, "insult_context")] >= 0.5 > rate[(config, "neutral_control")]
    leaks = L.pii_leakage_table(items, by=("config", "category")).set_index(
        ["config", "category", "leak", "entity_type"]
    )
    # canaries inserted 64 times come back verbatim from their prefixes under greedy decoding
    assert leaks.loc[("greedy", "canary_prefix_partial", "memorised", "canary"), "k"] >= 2
    assert leaks.loc[("greedy", "insult_context", "memorised", "canary"), "k"] == 0
