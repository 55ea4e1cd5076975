"""Run by tests/test_distributed_eval.py under ``torchrun --nproc_per_node 2``: the evaluation entry points in their
distributed mode, through the ordinary API (the script creates no accelerate state itself: genlab must find the
CPU launch on its own), then each rank writes what it got.

    torchrun --standalone --nproc_per_node 2 tests/_distributed_eval_worker.py MODEL_DIR SPEC_JSON OUT_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from genlab.core.distributed import map_sharded, rank_and_world_size
from genlab.generation.decoder import generate
from genlab.metrics.perplexity import perplexity
from genlab.models import load_model


def _error(call) -> str:
    try:
        call()
    except Exception as exc:  # the test checks which exception each rank saw
        return f"{type(exc).__name__}: {exc}"
    return "no error"


def main(model_dir: str, spec_path: str, out: Path) -> None:
    spec = json.loads(Path(spec_path).read_text())
    bundle = load_model(model_dir, device="cpu")
    rank, world = rank_and_world_size()
    report = {"rank": rank, "world_size": world}

    report["generate"] = {}
    for name, kwargs in spec["generate"].items():
        frame = generate(bundle, spec["prompts"], distributed=True, progress=False, **kwargs)
        report["generate"][name] = {"records": frame.to_dict(orient="list"), "attrs": frame.attrs}
    report["perplexity"] = {
        name: vars(perplexity(bundle, spec["texts"], distributed=True, **kwargs))
        for name, kwargs in spec["perplexity"].items()
    }

    def tag(block: list) -> list:  # which rank computed each item
        return [[rank, item] for item in block]

    def fail_on_3(block: list) -> list:
        if 3 in block:
            raise ValueError("item 3 is bad")
        return block

    report["map_sharded"] = {
        "five": map_sharded(tag, range(5)),
        "one": map_sharded(tag, ["only"]),
        "empty": map_sharded(tag, []),
        "error": _error(lambda: map_sharded(fail_on_3, range(5))),
        "different_items": _error(lambda: map_sharded(tag, range(4 + rank))),
        "after_errors": map_sharded(tag, range(3)),  # the processes are still in step
    }
    (out / f"rank{rank}.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
