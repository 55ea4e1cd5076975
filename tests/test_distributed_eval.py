"""Evaluation sharded over processes: generate(distributed=True), perplexity(distributed=True) and map_sharded give,
on every process of a 2-process CPU launch (torchrun, gloo; tooling.md section 3), the single-process result.

The launch runs once per module (about 15 s on 2 cores); the single-process references are computed here, in the
pytest process, on the same saved weights and with one thread, like each launched process.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from genlab.core.distributed import map_sharded, rank_and_world_size
from genlab.generation.decoder import generate
from genlab.metrics.perplexity import perplexity
from genlab.models import load_model
from genlab.models.tiny import tiny_bundle, tiny_tokenizer

pytestmark = [pytest.mark.usefixtures("one_thread"), pytest.mark.timeout(180)]

WORKER = Path(__file__).with_name("_distributed_eval_worker.py")
SPEC = {
    # 5 prompts of different lengths: an uneven split, and batches with left padding
    "prompts": ["the cat", "a dog ran to the", "the mat sat on the cat. the", "a", "the dog"],
    "generate": {
        # batch_size 4: greedy 5 rows (2 batches) + sampling 5 x 2 rows (3 batches) = 5 batches, split 3 / 2
        "mixed": {"configs": ["greedy", "nucleus0.95"], "n_samples": 2, "max_new_tokens": 8, "batch_size": 4},
        # one batch for two processes: the second has nothing to do
        "one_batch": {"configs": "greedy", "max_new_tokens": 6},
    },
    # an empty text (nothing scored: nan), a one-word text (BOS + 1 token: 1 scored), one text longer than the
    # 16-token window below
    "texts": [
        "the cat sat on the mat.",
        "a dog ran to the park and the cat sat on the mat",
        "",
        "the",
        "the mat sat on the cat. the dog ran to the park. a cat sat",
    ],
    "perplexity": {
        "batched": {},
        "one_window_per_batch": {"batch_size": 1},
        "strided": {"max_length": 16, "stride": 8, "batch_size": 1},
    },
}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A tiny GPT-2 with sharpened weights (varied continuations), saved so that every process loads the same."""
    tok = tiny_tokenizer(["the cat sat on the mat.", "a dog ran to the park."])
    bundle = tiny_bundle(tok, n_embd=32, n_layer=2, seed=0)
    with torch.no_grad():
        for p in [*bundle.model.transformer.h.parameters(), bundle.model.transformer.wte.weight]:
            p.mul_(4)
    path = tmp_path_factory.mktemp("model")
    bundle.model.save_pretrained(path)
    bundle.tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def bundle(model_dir):
    return load_model(model_dir, device="cpu")


@pytest.fixture(scope="module")
def ranks(model_dir, tmp_path_factory) -> list[dict]:
    """What each of the two launched processes returned."""
    out = tmp_path_factory.mktemp("ranks")
    spec = out / "spec.json"
    spec.write_text(json.dumps(SPEC))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1", "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    cmd += [str(WORKER), str(model_dir), str(spec), str(out)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=110)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]


def test_the_launch_is_one_group_of_two_processes(ranks):
    assert [(r["rank"], r["world_size"]) for r in ranks] == [(0, 2), (1, 2)]


@pytest.mark.parametrize("name", list(SPEC["generate"]))
def test_generate_gives_every_process_the_single_process_frame(ranks, bundle, name):
    expected = generate(bundle, SPEC["prompts"], progress=False, **SPEC["generate"][name])
    for r in ranks:
        got = pd.DataFrame(r["generate"][name]["records"])
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)  # texts and token ids identical
        assert r["generate"][name]["attrs"] == json.loads(json.dumps(expected.attrs))
    if name == "mixed":  # sampled rows differ from each other: the draws really are seeded per row
        sampled = expected[expected["config"] == "nucleus0.95"]
        assert sampled["text"].nunique() > len(SPEC["prompts"])


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("name", list(SPEC["perplexity"]))
def test_perplexity_gives_every_process_the_single_process_result(ranks, bundle, name):
    expected = vars(perplexity(bundle, SPEC["texts"], **SPEC["perplexity"][name]))
    assert math.isnan(expected["per_text"][2]) and expected["per_text_tokens"][2] == 0  # "": BOS only
    for r in ranks:
        got = r["perplexity"][name]
        assert got["per_text_tokens"] == expected["per_text_tokens"] and got["n_tokens"] == expected["n_tokens"]
        if SPEC["perplexity"][name].get("batch_size") == 1:
            # every window is scored alone in both runs, so the arithmetic is the same: equal to the last bit
            for key in ("perplexity", "nll_sum"):
                assert got[key] == expected[key], key
            for key in ("per_text", "per_text_nll"):
                assert all(map(_same, got[key], expected[key])), key
        else:
            # the windows of a block share batches with other windows than in one process: float32 rounding
            for key in ("perplexity", "nll_sum"):
                assert got[key] == pytest.approx(expected[key], rel=1e-6), key
            for key in ("per_text", "per_text_nll"):
                assert got[key] == pytest.approx(expected[key], rel=1e-6, nan_ok=True), key


def test_map_sharded_splits_in_contiguous_blocks_and_gathers_in_order(ranks):
    for r in ranks:  # every process holds the full list; rank 0 computed the first 3 items, rank 1 the last 2
        assert r["map_sharded"]["five"] == [[0, 0], [0, 1], [0, 2], [1, 3], [1, 4]]
        assert r["map_sharded"]["one"] == [[0, "only"]]
        assert r["map_sharded"]["empty"] == []
        assert r["map_sharded"]["after_errors"] == [[0, 0], [0, 1], [1, 2]]


def test_an_error_on_one_process_stops_every_process(ranks):
    # rank 1 holds item 3: it raises its own error, and rank 0, instead of waiting for it forever, says who failed
    assert ranks[1]["map_sharded"]["error"] == "ValueError: item 3 is bad"
    assert ranks[0]["map_sharded"]["error"] == (
        "RuntimeError: map_sharded: process 1 of 2 failed (ValueError: item 3 is bad); see its output"
    )
    for r in ranks:
        assert "lists of different lengths [4, 5]" in r["map_sharded"]["different_items"]


# In one process (no launch): map_sharded is fn(items).


def test_map_sharded_in_one_process_is_fn_of_all_items():
    calls = []

    def fn(block):
        calls.append(list(block))
        return [x * 10 for x in block]

    assert map_sharded(fn, (1, 2, 3)) == [10, 20, 30]
    assert map_sharded(fn, (x for x in [4])) == [40]
    assert map_sharded(fn, []) == []
    assert calls == [[1, 2, 3], [4]]  # one call with every item; none for an empty list
    assert rank_and_world_size() == (0, 1)


def test_map_sharded_bad_input_says_what_to_do():
    with pytest.raises(ValueError, match="fn returned 3 results for a block of 2 items"):
        map_sharded(lambda block: [1, 2, 3], [1, 2])
    with pytest.raises(TypeError, match="single string; wrap it in a list"):
        map_sharded(lambda block: block, "abc")
    with pytest.raises(TypeError, match="fn must be a function"):
        map_sharded([1], [1])


def test_distributed_and_shard_do_not_mix(bundle):
    with pytest.raises(ValueError, match="not both"):
        generate(bundle, ["the cat"], shard="auto", distributed=True)
    with pytest.raises(ValueError, match="distributed must be True or False"):
        perplexity(bundle, ["the cat"], distributed="auto")


def test_a_launch_accelerate_does_not_see_is_an_error_not_duplicated_work(tmp_path):
    """The CPU trap (tooling.md section 3): a state created without cpu=True counts one process in a launch of
    two. genlab refuses to run every item on every process and says how to create the state."""
    script = tmp_path / "trap.py"
    script.write_text(
        "from accelerate import PartialState\n"
        "from genlab.core.distributed import map_sharded\n"
        "PartialState()\n"
        "map_sharded(lambda block: block, [1, 2])\n"
    )
    env = {**os.environ, "WORLD_SIZE": "2"}
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "the launcher started 2 processes, but accelerate's state counts 1" in proc.stderr
    assert "PartialState(cpu=True)" in proc.stderr
