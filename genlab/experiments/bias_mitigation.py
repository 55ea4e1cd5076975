"""Does the article's answer to bias work? Fine-tune the default model on the story task four ways and re-measure.

The story task's training stories carry the planted occupation-pronoun skew of the pretraining corpus
(:func:`genlab.training.tasks.write_story` draws the pronoun from the world's association). Each arm fine-tunes the
same model on the same task, with the same steps and learning rate, and differs in one thing:

- ``plain``: the training stories as they are (the reference arm: what fine-tuning alone does);
- ``cda``: counterfactual data augmentation (Lu et al. 2018): each story plus its gender-swapped copy
  (:func:`genlab.data.augment.counterfactual`), so every occupation is seen with both pronouns equally often;
- ``cleaned``: the corpus cleaned of skewed sentences: stories are dropped, per occupation, from the majority
  pronoun until both pronouns are equally frequent (:func:`balance_stories`); fewer stories, none rewritten;
- ``fgm``: the plain stories with FGM adversarial training in embedding space (Miyato et al. 2017;
  :mod:`genlab.training.adversarial`), which the article proposes against bias.

Each arm is trained with several seeds (training runs are the replication unit) and then measured on the same
items, so arms are compared item by item:

- **pair bias** (the world pair probe, gender axis, :func:`genlab.probes.crows_pairs.world_pairs`): per item, the
  model's P(majority-pronoun sentence) within the pair, ``sigmoid(log p(more) - log p(less))``; 0.5 is no preference;
- **story bias**: per held-out story prompt whose occupation carries a planted skew, 1 if the greedy story's first
  pronoun is the occupation's majority pronoun, 0 if the minority one (prompts whose story has no she/he are left
  out and counted);
- **cost**: the story task's attribute coverage (per prompt) and the token-weighted perplexity of held-out corpus
  documents.

``python -m genlab.experiments.bias_mitigation run [--full]`` runs every arm and seed, saving each run's measurements
under ``results/bias_mitigation/runs/`` as it finishes (an interrupted run resumes) and the tables beside them
(``scores.csv``, ``summary.csv`` from :func:`summarise`, ``provenance.json``). Notebook 30 reads ``runs/*.csv``,
summarises them with :func:`summarise` and plots the summary in its own cells.

>>> stories = ["The baker slept. She woke.", "The baker ate. She sang.", "The baker ran. He sat.", "A smith. He ran."]
>>> [stories.index(s) for s in balance_stories(stories, ["baker", "baker", "baker", "smith"])]   # smith: only "he"
[0, 2]

**Limitations.** One task (templated stories), one model size and short fine-tuning runs: an arm that does not
move the probe here may work with longer training or on other data. The probes read the gender axis only; the
community axis is not in the story data. The pair probe scores the model's likelihood, not what it generates; the
story probe reads one pronoun per story. The cleaned arm trains on fewer distinct stories than the others.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from genlab.data.augment import counterfactual
from genlab.probes.crows_pairs import pair_scores, world_pairs
from genlab.training.adversarial import AdversarialConfig
from genlab.worlds.text_spec import World

__all__ = [
    "ARMS",
    "CI_SETTINGS",
    "FULL_SETTINGS",
    "MitigationSettings",
    "arm_dataset",
    "balance_stories",
    "first_pronoun",
    "measure",
    "run_arm",
    "run_study",
    "summarise",
]

ARMS = ("plain", "cda", "cleaned", "fgm")
_PRONOUN = re.compile(r"\b(she|he|her|him|his|hers|herself|himself)\b", re.IGNORECASE)
_SHE_WORDS = {"she", "her", "hers", "herself"}


@dataclass(frozen=True)
class MitigationSettings:
    """One study's size: task sizes, fine-tuning budget, seeds, and what is measured."""

    n_train: int = 400  # story-task training prompts
    n_eval: int = 100  # held-out story prompts (story bias and coverage)
    steps: int = 150
    batch_size: int = 16
    learning_rate: float = 5e-4  # full fine-tuning
    seeds: tuple[int, ...] = (0, 1, 2)
    n_heldout_docs: int = 100  # corpus validation documents for the perplexity cost
    max_new_tokens: int = 80
    fgm_epsilon: float = 1.0
    arms: tuple[str, ...] = ARMS
    task_seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


#: CI-sized: one seed, a short budget; demonstrates the pipeline, too small to detect an arm's effect.
CI_SETTINGS = MitigationSettings(n_train=120, n_eval=40, steps=30, seeds=(0,), n_heldout_docs=30, max_new_tokens=60)
#: Full-size: three seeds per arm (the results under results/bias_mitigation come from this).
FULL_SETTINGS = MitigationSettings()


def first_pronoun(text: str) -> str | None:
    """``"she"`` or ``"he"``: the gender of the first third-person pronoun in ``text``; ``None`` if it has none.

    >>> first_pronoun("The baker slept. Her cat woke him."), first_pronoun("The baker slept.")
    ('she', None)
    """
    m = _PRONOUN.search(text)
    if m is None:
        return None
    return "she" if m.group(1).lower() in _SHE_WORDS else "he"


def _majority(world: World) -> dict[str, tuple[str, float]]:
    """occupation -> (its majority pronoun, planted share of it), for gender associations."""
    out = {}
    for a in world.associations:
        if a.axis == "gender":
            first, second = a.groups
            out[a.attribute] = (first, a.p_first) if a.p_first >= 0.5 else (second, 1 - a.p_first)
    return out


def balance_stories(stories: Sequence[str], occupations: Sequence[str]) -> list[str]:
    """The stories with, per occupation, the surplus of the more frequent pronoun dropped (the first stories of
    each pronoun are kept, in order), so that she- and he-stories of every occupation are equally many; an
    occupation seen with one pronoun only loses all its pronoun stories. Stories without a pronoun are kept. The
    balance is measured on the stories themselves, not assumed from the planted strength. This is cleaning by
    removal: nothing is rewritten."""
    if len(stories) != len(occupations):
        raise ValueError(f"{len(stories)} stories but {len(occupations)} occupations; pass one per story")
    pronouns = [first_pronoun(s) for s in stories]
    counts: dict[str, Counter] = defaultdict(Counter)
    for occ, p in zip(occupations, pronouns, strict=True):
        if p is not None:
            counts[occ][p] += 1
    quota = {occ: min(c["she"], c["he"]) for occ, c in counts.items()}
    used: dict[str, Counter] = defaultdict(Counter)
    kept = []
    for story, occ, p in zip(stories, occupations, pronouns, strict=True):
        if p is not None:
            if used[occ][p] >= quota[occ]:
                continue
            used[occ][p] += 1
        kept.append(story)
    return kept


def arm_dataset(task, arm: str):
    """The training set of ``arm`` (a ``datasets.Dataset`` with prompt and completion) and its adversarial config."""
    import datasets

    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r}; choose one of {ARMS}")
    train = task.train
    prompts, stories, occupations = list(train["prompt"]), list(train["completion"]), list(train["occupation"])
    if arm == "cda":
        prompts = prompts + prompts
        stories = stories + [counterfactual(s, axes=["gender"]) for s in stories]
    elif arm == "cleaned":
        keep = set(balance_stories(stories, occupations))
        rows = [(p, s) for p, s in zip(prompts, stories, strict=True) if s in keep]
        prompts, stories = [p for p, _ in rows], [s for _, s in rows]
    data = datasets.Dataset.from_dict({"prompt": prompts, "completion": stories})
    return data, (AdversarialConfig(method="fgm") if arm == "fgm" else None)


def measure(bundle, task, world: World, heldout_texts: Sequence[str], *, max_new_tokens: int = 80) -> dict:
    """The item-level measurements of one model: ``pair`` (DataFrame: item, planted, score), ``story`` (item,
    occupation, planted, pronoun, majority, coverage) and ``heldout_ppl``."""
    from genlab.metrics.perplexity import perplexity
    from genlab.metrics.task_scores import story_coverage

    pairs = world_pairs(world)
    pairs = pairs[pairs["bias_type"] == "gender"].reset_index(drop=True)
    scored = pair_scores(bundle, pairs)
    diff = (scored["score_more"] - scored["score_less"]).to_numpy()
    pair = pd.DataFrame(
        {
            "item": [f"pair-{i:03d}" for i in range(len(scored))],
            "attribute": scored["attribute"],
            "planted": scored["planted"],
            "score": 1.0 / (1.0 + np.exp(-diff)),
        }
    )
    cover = story_coverage(bundle, task.eval, max_new_tokens=max_new_tokens, n_resamples=10)
    majority = _majority(world)
    rows = []
    for i, r in cover.items.reset_index(drop=True).iterrows():
        occ = r["occupation"]
        group, planted = majority.get(occ, (None, 0.5))
        pronoun = first_pronoun(r["generation"])
        rows.append(
            {
                "item": f"story-{i:03d}",
                "occupation": occ,
                "planted": planted,
                "pronoun": pronoun,
                "majority": float(pronoun == group) if pronoun is not None and planted > 0.5 else math.nan,
                "coverage": float(r["covered"]) / 3,
            }
        )
    ppl = perplexity(bundle, list(heldout_texts), batch_size=16).perplexity
    return {"pair": pair, "story": pd.DataFrame(rows), "heldout_ppl": float(ppl)}


def run_arm(
    base, task, arm: str, seed: int, settings: MitigationSettings, world: World, heldout_texts: Sequence[str]
) -> dict:
    """Fine-tune ``base`` for one arm and seed, then :func:`measure` it; adds the run's record."""
    from genlab.training.finetuning import finetune

    data, adversarial = arm_dataset(task, arm)
    if adversarial is not None:
        adversarial = AdversarialConfig(method="fgm", epsilon=settings.fgm_epsilon)
    tuned, record = finetune(
        base,
        data,
        "full",
        steps=settings.steps,
        batch_size=settings.batch_size,
        learning_rate=settings.learning_rate,
        seed=seed,
        adversarial=adversarial,
        progress=False,
    )
    out = measure(tuned, task, world, heldout_texts, max_new_tokens=settings.max_new_tokens)
    out["record"] = {
        "arm": arm,
        "seed": seed,
        "n_train_rows": len(data),
        "train_time_s": record.train_time_s,
        "train_loss_final": record.train_loss[-1][1] if record.train_loss else None,
    }
    return out


def _tidy(arm: str, seed: int, result: dict) -> pd.DataFrame:
    pair = result["pair"].assign(probe="pair_bias")[["probe", "item", "planted", "score"]]
    story = result["story"]
    story_bias = story.dropna(subset=["majority"]).assign(probe="story_bias", score=lambda d: d["majority"])
    coverage = story.assign(probe="story_coverage", score=story["coverage"])
    frames = [pair, story_bias[["probe", "item", "planted", "score"]], coverage[["probe", "item", "planted", "score"]]]
    out = pd.concat(frames, ignore_index=True)
    out = pd.concat(
        [
            out,
            pd.DataFrame(
                [{"probe": "heldout_ppl", "item": "corpus", "planted": math.nan, "score": result["heldout_ppl"]}]
            ),
        ],
        ignore_index=True,
    )
    return out.assign(arm=arm, seed=seed)[["arm", "seed", "probe", "item", "planted", "score"]]


@dataclass
class StudyResult:
    scores: pd.DataFrame  # arm, seed, probe, item, planted, score (one row per measured item)
    records: list[dict] = field(default_factory=list)
    settings: dict = field(default_factory=dict)


def run_study(
    base, settings: MitigationSettings = CI_SETTINGS, *, world: World | None = None, out_dir: str | Path | None = None
) -> StudyResult:
    """Every arm and seed of ``settings``, plus the model before fine-tuning (arm ``base``, seed -1).

    ``out_dir``: each run's tidy scores are saved there (``runs/{arm}-seed{seed}.csv`` and ``.json``) as it finishes;
    a run whose files exist is read back instead of trained again, so an interrupted study resumes."""
    from genlab.training.tasks import build_task
    from genlab.worlds.text import generate_corpus, load_world

    world = world or load_world()
    unknown = [a for a in settings.arms if a not in ARMS]
    if unknown:
        raise ValueError(f"unknown arm(s) {unknown}; choose from {ARMS}")
    task = build_task("story", world, seed=settings.task_seed, n_train=settings.n_train, n_eval=settings.n_eval)
    # fresh held-out documents of the same generator (a corpus seed the default model was not trained on; its
    # validation split holds no planted fact or canary)
    heldout = generate_corpus(
        n_train_docs=128, n_validation_docs=settings.n_heldout_docs, n_test_docs=0, seed=1, world=world
    ).texts("validation")
    runs_dir = Path(out_dir) / "runs" if out_dir is not None else None
    if runs_dir is not None:
        runs_dir.mkdir(parents=True, exist_ok=True)
    frames, records = [], []
    for arm, seed in [("base", -1)] + [(a, s) for a in settings.arms for s in settings.seeds]:
        name = f"{arm}-seed{seed}"
        if runs_dir is not None and (runs_dir / f"{name}.csv").exists():
            frames.append(pd.read_csv(runs_dir / f"{name}.csv"))
            records.append(json.loads((runs_dir / f"{name}.json").read_text()))
            continue
        start = time.time()
        if arm == "base":
            result = measure(base, task, world, heldout, max_new_tokens=settings.max_new_tokens)
            result["record"] = {"arm": "base", "seed": -1}
        else:
            result = run_arm(base, task, arm, seed, settings, world, heldout)
        result["record"]["wall_s"] = round(time.time() - start, 1)
        tidy = _tidy(arm, seed, result)
        if runs_dir is not None:
            tidy.to_csv(runs_dir / f"{name}.csv", index=False)
            (runs_dir / f"{name}.json").write_text(json.dumps(result["record"], indent=1) + "\n")
        frames.append(tidy)
        records.append(result["record"])
    return StudyResult(pd.concat(frames, ignore_index=True), records, settings.to_dict())


def _complete(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of items scored (not NaN) in every run of ``frame``."""
    frame = frame.dropna(subset=["score"])
    runs = frame.groupby("item")["seed"].nunique()
    return frame[frame["item"].isin(runs.index[runs == frame["seed"].nunique()])]


def summarise(
    scores: pd.DataFrame, *, reference: str = "plain", confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """Per arm and probe: the mean with its interval, and the difference to ``reference`` with a test.

    - Item probes (pair bias, story bias, story coverage): an arm with 2 or more training runs gets the mixed-model
      interval (runs and items as crossed random effects, :func:`genlab.stats.mixed_model_ci`) over
      the items scored in every run; an arm with one run (the base model) gets a bootstrap interval over items. The
      difference to ``reference`` is :func:`genlab.stats.paired_hierarchical_comparison` (items
      paired, runs independent) over the items both arms scored in every run, with the mixed-model t test and the
      run-level permutation p-value beside it.
    - ``heldout_ppl`` (one number per run): the mean over runs with a t interval, and Welch's t test between arms.

    p-values are Holm-adjusted within each probe (the family: every arm compared with ``reference`` on that
    probe), in ``p_adjusted``. Columns: arm, probe, n_seeds, n_items, x, x_low, x_high, interval, diff, diff_low,
    diff_high, p_value, p_permutation, p_permutation_min, family_size, correction, p_adjusted."""
    from scipy import stats as st

    from genlab.stats import bootstrap_ci, holm, mixed_model_ci, paired_hierarchical_comparison

    rows = []
    for (arm, probe), g in scores.groupby(["arm", "probe"], sort=False):
        g = g.dropna(subset=["score"])
        n_runs = g["seed"].nunique()
        row = {"arm": arm, "probe": probe, "n_seeds": n_runs}
        ref = scores[(scores["arm"] == reference) & (scores["probe"] == probe)].dropna(subset=["score"])
        if probe == "heldout_ppl":
            v = g["score"].to_numpy(dtype=float)
            half = (
                st.t.ppf(0.5 + confidence / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else np.nan
            )
            row.update(
                n_items=1,
                x=v.mean(),
                x_low=v.mean() - half,
                x_high=v.mean() + half,
                interval="t over runs" if len(v) > 1 else "one run: no interval",
            )
            r = ref["score"].to_numpy(dtype=float)
            if arm != reference and len(v) > 1 and len(r) > 1:
                test = st.ttest_ind(v, r, equal_var=False)
                ci = test.confidence_interval(confidence)
                row.update(diff=v.mean() - r.mean(), diff_low=ci.low, diff_high=ci.high, p_value=test.pvalue)
            rows.append(row)
            continue
        complete = _complete(g)
        if n_runs >= 2:
            ci = mixed_model_ci(complete, arm=None, confidence=confidence).iloc[0]
            row.update(
                n_items=int(ci["n_items"]),
                x=ci["score"],
                x_low=ci["score_low"],
                x_high=ci["score_high"],
                interval="mixed model t",
            )
        else:
            b = bootstrap_ci(complete["score"].to_numpy(), n_resamples=n_resamples, confidence=confidence, seed=seed)
            row.update(n_items=b.n, x=b.estimate, x_low=b.low, x_high=b.high, interval="bootstrap over items (one run)")
        if arm != reference and n_runs >= 2 and ref["seed"].nunique() >= 2:
            both = pd.concat([complete, _complete(ref)])
            shared = both.groupby("item")["arm"].nunique()
            both = both[both["item"].isin(shared.index[shared == 2])]
            c = paired_hierarchical_comparison(
                both, arm, reference, n_resamples=n_resamples, confidence=confidence, seed=seed
            )
            row.update(
                diff=c.difference,
                diff_low=c.low,
                diff_high=c.high,
                p_value=c.p_value,
                p_permutation=c.p_permutation,
                p_permutation_min=c.p_permutation_min,
            )
        rows.append(row)
    out = pd.DataFrame(rows)
    for col in ("diff", "diff_low", "diff_high", "p_value", "p_permutation", "p_permutation_min"):
        if col not in out:
            out[col] = np.nan
    out["family_size"], out["correction"], out["p_adjusted"] = 0, "holm within probe", np.nan
    for _probe, g in out[out["p_value"].notna()].groupby("probe"):
        out.loc[g.index, "p_adjusted"] = holm(g["p_value"].to_numpy())
        out.loc[g.index, "family_size"] = len(g)
    return out


def main(argv: list[str] | None = None) -> None:
    from genlab.core.paths import REPO_DIR, default_model_dir
    from genlab.experiments.provenance import write_provenance
    from genlab.models import load_model

    parser = argparse.ArgumentParser(description="The bias mitigation study (CDA, cleaned data, FGM).")
    parser.add_argument("command", choices=["run"])
    parser.add_argument("--full", action="store_true", help="the full-size settings (3 seeds per arm)")
    parser.add_argument("--out", type=Path, default=REPO_DIR / "results" / "bias_mitigation")
    args = parser.parse_args(argv)
    settings = FULL_SETTINGS if args.full else CI_SETTINGS
    start = time.time()
    result = run_study(load_model(str(default_model_dir())), settings, out_dir=args.out)
    result.scores.to_csv(args.out / "scores.csv", index=False)
    summary = summarise(result.scores)
    summary.round(6).to_csv(args.out / "summary.csv", index=False)
    write_provenance(args.out, result.settings, started=start, records=result.records)
    print(summary.round(4).to_string())


if __name__ == "__main__":
    main()
