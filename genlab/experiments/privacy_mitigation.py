"""Does desensitising the training data protect privacy? Train the same small recipe on three versions of one
corpus and measure what each model gives away.

The article's answer to privacy is to "desensitise" the training data. The corpus carries canaries inserted a known
number of times, planted personal data, and (with the world's ``duplicate_rate`` knob) duplicated documents, so
the cure can be tested on planted truth. Arms, each trained from scratch with the same recipe and seeds:

- ``raw``: the corpus as generated, duplicates included;
- ``deduplicated``: exact and near duplicates removed (:func:`genlab.data.dedup.find_duplicates`);
- ``redacted``: personal data replaced by typed placeholders (:func:`genlab.data.pii.redact_texts`, with the
  recognisers of ``PrivacySettings.recognisers``).

Each model is measured on the same items: the exposure of each scored canary (Carlini et al. 2019,
:func:`genlab.probes.exposure.canary_exposure`), with the canary's actual dose in the arm's training texts (how
many training texts still contain it after cleaning), and the token-weighted perplexity of held-out documents (the
cost). Arms are compared canary by canary (items) over seeds (runs) with
:func:`genlab.stats.paired_hierarchical_comparison`.

``python -m genlab.experiments.privacy_mitigation run [--full]`` runs every arm and seed, saving each run under
``results/privacy_mitigation/runs/`` as it finishes (an interrupted run resumes), and the tables beside them
(``scores.csv``; ``summary.csv`` and ``summary_extracted.csv`` from :func:`summarise`; ``provenance.json``).
Notebook 31 reads the runs, summarises them with :func:`summarise` and tabulates and plots them in its own cells.

>>> arm_texts(["Call 555-123-4567 now.", "Call 555-123-4567 now.", "A quiet day."], "deduplicated",
...           PrivacySettings())
['Call 555-123-4567 now.', 'A quiet day.']
>>> arm_texts(["Call 555-123-4567 now."], "redacted", PrivacySettings())
['Call [PHONE] now.']

**Limitations.** Exposure needs the canary's exact prefix and format; it does not measure what an attacker without
them could extract. Redaction can only remove what its recognisers find: a secret in a format they do not know
(the canaries' ``555-dddd-dddd`` phones escape genlab's patterns) passes through untouched, which the measured dose
shows. Deduplication lowers the dose of a secret only where the secret was duplicated; the canaries were planted
in distinct documents. Small models memorise less than large ones, so the absolute exposures here are lower than a
production model's would be; the comparison between arms is the result.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd

from genlab.worlds.text_spec import World

__all__ = [
    "ARMS",
    "CI_SETTINGS",
    "FULL_SETTINGS",
    "PrivacySettings",
    "arm_texts",
    "canary_doses",
    "run_study",
    "summarise",
]

ARMS = ("raw", "deduplicated", "redacted")


@dataclass(frozen=True)
class PrivacySettings:
    """One study's size: corpus, recipe, seeds and what is measured."""

    n_train_docs: int = 6_000
    duplicate_rate: float = 0.3  # share of training documents copied (half exact, half near)
    steps: int = 600
    batch_size: int = 16
    n_embd: int = 128
    n_layer: int = 2
    n_head: int = 4
    seeds: tuple[int, ...] = (0, 1, 2)
    recognisers: str = "patterns"  # for the redacted arm; "patterns+presidio" adds named-entity recognition
    canaries_per_count: int = 2  # canaries of each kind and insertion count scored
    n_references: int = 2_000  # reference secrets per canary
    n_validation_docs: int = 200
    extraction_owner_samples: int = 4  # extraction samples per owner prompt (the scored canaries' owners)
    extraction_neutral_samples: int = 100  # extraction samples per neutral prompt
    extraction_new_tokens: int = 32
    extraction_cutoffs: tuple[int, ...] = (10, 50, 100)
    arms: tuple[str, ...] = ARMS
    corpus_seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


#: CI-sized: shows the pipeline; far too small to memorise anything.
CI_SETTINGS = PrivacySettings(
    n_train_docs=300,
    steps=5,
    n_embd=32,
    n_layer=1,
    n_head=2,
    seeds=(0,),
    canaries_per_count=1,
    n_references=50,
    n_validation_docs=20,
    extraction_owner_samples=1,
    extraction_neutral_samples=4,
    extraction_new_tokens=8,
    extraction_cutoffs=(10,),
)
#: Full-size: three seeds per arm, the small recipe (about 10 minutes per run on 2 idle cores).
FULL_SETTINGS = PrivacySettings()


def arm_texts(texts: Sequence[str], arm: str, settings: PrivacySettings) -> list[str]:
    """The training texts of ``arm``: as they are, deduplicated, or redacted."""
    if arm not in ARMS:
        raise ValueError(f"unknown arm {arm!r}; choose one of {ARMS}")
    texts = list(texts)
    if arm == "deduplicated":
        from genlab.data.dedup import find_duplicates

        return [texts[i] for i in find_duplicates(texts).keep]
    if arm == "redacted":
        from genlab.data.pii import redact_texts

        return redact_texts(texts, settings.recognisers)[0]
    return texts


def canary_doses(texts: Sequence[str], canaries) -> dict[str, int]:
    """canary id -> how many of ``texts`` contain its secret: the dose a model trained on them received."""
    return {c.id: sum(c.secret in t for t in texts) for c in canaries}


def _scored_canaries(world: World, per_count: int):
    letters = "abcdefghijklmnopqrstuvwxyz"[:per_count]
    return [c for c in world.canaries if c.id.rsplit("-", 1)[1] in letters]


def _train(texts: list[str], validation: list[str], settings: PrivacySettings, seed: int):
    from genlab.core.paths import default_model_dir
    from genlab.models import load_model
    from genlab.recipes.default_model import recipe
    from genlab.training.pretraining import pretrain

    tokenizer = load_model(str(default_model_dir())).tokenizer  # the default model's: no secret in its vocabulary
    model_config, config = recipe(settings.steps)
    model_config = replace(model_config, n_embd=settings.n_embd, n_layer=settings.n_layer, n_head=settings.n_head)
    config = replace(
        config,
        max_steps=settings.steps,
        batch_size=settings.batch_size,
        warmup_steps=min(50, settings.steps),
        eval_steps=settings.steps,
        save_steps=0,
        progress=False,
        seed=seed,
    )
    return pretrain(texts, validation[:50], tokenizer, model_config, config).bundle


def run_study(
    settings: PrivacySettings = CI_SETTINGS,
    *,
    world: World | None = None,
    out_dir: str | Path | None = None,
    reference=None,
) -> pd.DataFrame:
    """Every arm and seed of ``settings``; one row per (arm, seed, canary) with ``count`` (planted insertions),
    ``dose`` (training texts of the arm holding the secret), ``exposure`` (rank-based) and ``exposure_skewnorm``,
    ``extracted`` (1 when the extraction attack's samples hold the canary's secret; the attack prompts with the
    owner's name, never the canary's exact prefix), plus the run's ``pii_extracted`` (planted PII values of the
    raw corpus found in the samples) and held-out ``perplexity``. ``reference``: the extraction attack's reference
    model (:func:`genlab.recipes.reference_model.load_reference`; None leaves that ranking out). Saved per run
    under ``out_dir/runs`` (with the attack's precision at k in ``<arm>-seed<seed>-extraction.csv``) and read
    back when present."""
    from genlab.metrics.perplexity import perplexity
    from genlab.probes.exposure import canary_exposure
    from genlab.probes.extraction import ExtractionConfig, extraction_attack
    from genlab.worlds.text import generate_corpus, load_world

    world = world or load_world()
    unknown = [a for a in settings.arms if a not in ARMS]
    if unknown:
        raise ValueError(f"unknown arm(s) {unknown}; choose from {ARMS}")
    corpus = generate_corpus(
        n_train_docs=settings.n_train_docs,
        n_validation_docs=settings.n_validation_docs,
        n_test_docs=0,
        seed=settings.corpus_seed,
        world=world,
        duplicate_rate=settings.duplicate_rate,
    )
    train, validation = corpus.texts("train"), corpus.texts("validation")
    canaries = _scored_canaries(world, settings.canaries_per_count)
    runs_dir = Path(out_dir) / "runs" if out_dir is not None else None
    if runs_dir is not None:
        runs_dir.mkdir(parents=True, exist_ok=True)
    frames = []
    for arm in settings.arms:
        texts = None
        for seed in settings.seeds:
            path = runs_dir / f"{arm}-seed{seed}.csv" if runs_dir is not None else None
            if path is not None and path.exists():
                frames.append(pd.read_csv(path))
                continue
            texts = texts if texts is not None else arm_texts(train, arm, settings)
            start = time.time()
            bundle = _train(texts, validation, settings, seed)
            exposure = canary_exposure(bundle, world, canaries, n_references=settings.n_references, seed=seed)
            doses = canary_doses(texts, canaries)
            attack = extraction_attack(
                bundle,
                world,
                corpus=corpus,
                reference=reference,
                canaries=canaries,
                config=ExtractionConfig(
                    owners_per_count=None,
                    owner_samples=settings.extraction_owner_samples,
                    neutral_samples=settings.extraction_neutral_samples,
                    max_new_tokens=settings.extraction_new_tokens,
                    cutoffs=settings.extraction_cutoffs,
                    seed=seed,
                ),
            )
            found = set(attack.extracted["value"])
            frame = pd.DataFrame(
                {
                    "arm": arm,
                    "seed": seed,
                    "item": exposure["canary_id"],
                    "kind": exposure["kind"],
                    "count": exposure["count"],
                    "dose": exposure["canary_id"].map(doses),
                    "exposure": exposure["exposure_rank"],
                    "exposure_skewnorm": exposure["exposure_skewnorm"],
                    "extracted": [int(c.secret in found) for c in canaries],
                    "pii_extracted": int((attack.extracted["source"] == "pii").sum()),
                    "perplexity": perplexity(bundle, validation, batch_size=16).perplexity,
                    "n_train_texts": len(texts),
                    "wall_s": round(time.time() - start, 1),
                }
            )
            if path is not None:
                frame.to_csv(path, index=False)
                attack.precision.assign(arm=arm, seed=seed).to_csv(
                    runs_dir / f"{arm}-seed{seed}-extraction.csv", index=False
                )
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def summarise(
    scores: pd.DataFrame, *, measure: str = "exposure", reference: str = "raw", confidence: float = 0.95
) -> pd.DataFrame:
    """Per arm: the mean of ``measure`` (``"exposure"`` or ``"extracted"``, the share of secrets the attack found)
    over the scored canaries with insertions (count > 0) and seeds, its mixed-model interval (one run: no
    interval), the mean dose, PII values extracted per run, the mean perplexity, and the paired difference in
    ``measure`` to ``reference`` (canaries paired, runs independent), Holm-adjusted over the arms compared."""
    from genlab.stats import holm, mixed_model_ci, paired_hierarchical_comparison

    if measure not in scores:
        raise ValueError(f"no column {measure!r} in the scores; choose 'exposure' or 'extracted'")
    inserted = scores[scores["count"] > 0].rename(columns={measure: "score"})
    rows = []
    present = set(inserted["arm"])
    order = [a for a in ARMS if a in present] + sorted(present - set(ARMS))
    for arm in order:
        g = inserted[inserted["arm"] == arm]
        runs = g.groupby("seed")
        row = {
            "arm": arm,
            "n_seeds": g["seed"].nunique(),
            "n_canaries": g["item"].nunique(),
            measure: g["score"].mean(),
            "dose": g["dose"].mean(),
            "perplexity": runs["perplexity"].first().mean(),
        }
        if "pii_extracted" in g:
            row["pii_extracted"] = runs["pii_extracted"].first().mean()
        if row["n_seeds"] >= 2:
            ci = mixed_model_ci(g, arm=None, confidence=confidence).iloc[0]
            row.update({f"{measure}_low": ci["score_low"], f"{measure}_high": ci["score_high"]})
            ref = inserted[inserted["arm"] == reference]
            if arm != reference and ref["seed"].nunique() >= 2:
                c = paired_hierarchical_comparison(pd.concat([g, ref]), arm, reference, confidence=confidence)
                row.update(diff=c.difference, diff_low=c.low, diff_high=c.high, p_value=c.p_value)
        rows.append(row)
    out = pd.DataFrame(rows)
    if "p_value" in out:
        tested = out["p_value"].notna()
        out.loc[tested, "p_adjusted"] = holm(out.loc[tested, "p_value"].to_numpy())
    return out


def main(argv: list[str] | None = None) -> None:
    from genlab.core.paths import REPO_DIR
    from genlab.experiments.provenance import write_provenance

    parser = argparse.ArgumentParser(description="The privacy mitigation study (raw, deduplicated, redacted).")
    parser.add_argument("command", choices=["run"])
    parser.add_argument("--full", action="store_true", help="the full-size settings (3 seeds per arm)")
    parser.add_argument("--out", type=Path, default=REPO_DIR / "results" / "privacy_mitigation")
    args = parser.parse_args(argv)
    settings = FULL_SETTINGS if args.full else CI_SETTINGS
    start = time.time()
    from genlab.recipes.reference_model import load_reference

    scores = run_study(settings, out_dir=args.out, reference=load_reference())
    scores.to_csv(args.out / "scores.csv", index=False)
    summary = summarise(scores)
    summary.round(6).to_csv(args.out / "summary.csv", index=False)
    summarise(scores, measure="extracted").round(6).to_csv(args.out / "summary_extracted.csv", index=False)
    write_provenance(args.out, settings.to_dict(), started=start)
    print(summary.round(4).to_string())


if __name__ == "__main__":
    main()
