"""The ordinary finetune() entry point under torchrun: 2 CPU processes, DDP over gloo (tooling.md section 3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("_ddp_train.py")


@pytest.mark.timeout(120)
def test_two_process_finetune_sees_world_size_2_and_ends_identical(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1", "PYTHONWARNINGS": "ignore"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        str(SCRIPT),
        str(tmp_path),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=110)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["rank"] for r in ranks] == [0, 1]
    for r in ranks:  # a real 2-process group, not two independent single-process runs
        assert r["env_world_size"] == r["dist_world_size"] == 2
        assert r["full_fgm"]["world_size"] == r["lora"]["world_size"] == 2
    for run in ("full_fgm", "lora"):
        assert ranks[0][run]["hash"] == ranks[1][run]["hash"]  # gradients were averaged: identical weights
        assert ranks[0][run]["tokens_seen"] == ranks[1][run]["tokens_seen"] > 0  # gathered over both ranks
        assert ranks[0][run]["eval_loss"] == pytest.approx(ranks[1][run]["eval_loss"])
    # rank 0 alone wrote the final artefacts; the atomic checkpoint left no staging folder
    assert (tmp_path / "lora" / "adapter" / "adapter_config.json").is_file()
    full = tmp_path / "full_fgm"
    assert sorted(p.name for p in full.iterdir()) == ["checkpoint-2", "checkpoint-3", "model", "run.json"]
    assert {"rng_state_0.pth", "rng_state_1.pth"} <= {p.name for p in (full / "checkpoint-2").iterdir()}
