"""The command line: ``genlab eval`` runs suites on a model, ``genlab report`` renders runs.

    genlab eval --model PATH_OR_HUB --suite NAME[,NAME] [--prompts F] [--texts F] [--pairs F] [--samples K]
                [--seed S] [--cache DIR] [--overwrite] --out DIR
    genlab report DIR [DIR ...] [--output FILE]

Bad input (an unknown suite, a suite without its data, an --out folder holding another run's results, a model
that does not load) is one line on stderr that says what to do, and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="genlab", description="Evaluate generative text models with genlab.")
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("eval", help="run suites on a model; writes results.json, samples.jsonl, report.html")
    ev.add_argument("--model", required=True, help="a model folder, a hub id, or genlab-tiny-world")
    ev.add_argument("--suite", required=True, help="suite name(s), comma-separated: crows_pairs, decoding, quality")
    ev.add_argument("--prompts", help="prompts: .txt (one per line), .csv/.jsonl/.parquet with a prompt column")
    ev.add_argument("--texts", help="documents: .txt, a folder of .txt files, or a table with a text column")
    ev.add_argument("--pairs", help="sentence pairs in the CrowS-Pairs CSV layout")
    ev.add_argument("--samples", type=int, default=1, help="continuations per prompt for sampling configurations")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--batch-size", type=int, default=16)
    ev.add_argument("--cache", help="cache folder for model outputs (default: OUT/cache)")
    ev.add_argument("--out", required=True, help="output folder")
    ev.add_argument("--overwrite", action="store_true", help="replace another run's results in --out")
    rep = sub.add_parser("report", help="render one run, or compare several, as one HTML page")
    rep.add_argument("runs", nargs="+", help="--out folders of genlab eval runs")
    rep.add_argument("--output", help="the HTML file (default: RUN/report.html for one run, ./comparison.html)")
    return parser


def _fail(message: str) -> int:
    print(f"genlab: error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0, or 2 for bad input)."""
    args = _parser().parse_args(argv)
    if args.command == "report":
        from genlab.suites.view import render_runs

        try:
            page = render_runs(args.runs)
        except (FileNotFoundError, ValueError) as e:
            return _fail(str(e))
        target = (
            Path(args.output)
            if args.output
            else (Path(args.runs[0]) / "report.html" if len(args.runs) == 1 else Path("comparison.html"))
        )
        target.write_text(page, encoding="utf-8")
        print(target)
        return 0

    from genlab.models.common import ModelLoadError
    from genlab.suites.base import SuiteInputError
    from genlab.suites.builtin import get_suite
    from genlab.suites.runner import run_suite

    try:
        suites = [get_suite(name.strip()) for name in args.suite.split(",") if name.strip()]
        for name in ("prompts", "texts", "pairs"):
            value = getattr(args, name)
            if value is not None and not Path(value).exists():
                raise SuiteInputError(f"--{name} {value}: no such file or folder")
        result = run_suite(
            args.model,
            suites,
            prompts=args.prompts,
            texts=args.texts,
            pairs=args.pairs,
            out_dir=args.out,
            samples=args.samples,
            seed=args.seed,
            cache_dir=args.cache,
            batch_size=args.batch_size,
            overwrite=args.overwrite,
        )
    except (SuiteInputError, ModelLoadError, FileNotFoundError, ValueError) as e:
        return _fail(str(e))
    print(
        f"{args.out}: results.json, samples.jsonl, report.html (cache hits {result['cache_hits']}, "
        f"misses {result['cache_misses']})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
