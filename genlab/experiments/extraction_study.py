"""The training-data extraction attack on the default model at full size, written to ``results/extraction/``.

Notebook 31 runs the attack at CI size (about 250 samples). A claim about a ranking's precision needs the full
run (:data:`genlab.probes.extraction.FULL_SIZE`: every canary owner, 8 samples per owner prompt and 2,000 per
neutral prompt, 64 new tokens each), which takes about 15 CPU-minutes, so it is run once and committed:

    python -m genlab.experiments.extraction_study run        # writes results/extraction/

It writes ``precision.csv`` (precision at k per ranking, with exact intervals), ``by_count.csv`` (attacked canaries
whose secret was found, by insertion count), ``extracted.csv`` (each target value found: its source, kind, count and
best rank per ranking, **without the value itself**: the report never shows a secret or a personal-data value) and
``provenance.json``. Notebook 31 reads the tables back.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd

__all__ = ["results_dir", "run"]


def results_dir() -> Path:
    """``results/extraction`` in the repository."""
    from genlab.core.paths import REPO_DIR

    return REPO_DIR / "results" / "extraction"


def run(config=None, out_dir: str | Path | None = None) -> dict[str, pd.DataFrame]:
    """Run the attack on the default model with the reference model and the default corpus's planted PII as
    targets; write the tables (values left out) and provenance to ``out_dir``; return the tables."""
    from genlab.experiments.provenance import write_provenance
    from genlab.models import load_model
    from genlab.probes.extraction import FULL_SIZE, extraction_attack
    from genlab.recipes.reference_model import load_reference
    from genlab.worlds.text import generate_corpus

    config = config or FULL_SIZE
    out = Path(out_dir) if out_dir is not None else results_dir()
    out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    corpus = generate_corpus()
    result = extraction_attack(load_model(), corpus.world, corpus=corpus, reference=load_reference(), config=config)
    tables = {
        "precision": result.precision,
        "by_count": result.by_count,
        "extracted": result.extracted.drop(columns=["value"]),
    }
    for name, table in tables.items():
        table.to_csv(out / f"{name}.csv", index=False)
    settings = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}
    write_provenance(
        out,
        settings,
        started=start,
        n_candidates=len(result.candidates),
        n_samples=int(result.candidates["n_samples"].sum()),
        n_hits=int(result.candidates["hit"].sum()),
    )
    return tables


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The full-size extraction attack on the default model.")
    parser.add_argument("command", choices=["run"])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    tables = run(out_dir=args.out)
    print(tables["precision"].round(3).to_string(index=False))
    print(tables["by_count"].round(3).to_string(index=False))


if __name__ == "__main__":
    main()
