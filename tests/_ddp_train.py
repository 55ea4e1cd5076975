"""Run by tests/test_distributed.py under ``torchrun --nproc_per_node 2``: tiny fine-tunes through the ordinary
``genlab.training.finetuning.finetune`` entry point (nothing distributed-specific here), then each rank writes what
it saw.

    torchrun --standalone --nproc_per_node 2 tests/_ddp_train.py OUT_DIR
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import torch.distributed as dist

from genlab.data.tokenizer import train_tokenizer
from genlab.models.tiny import tiny_bundle
from genlab.training.adversarial import AdversarialConfig
from genlab.training.finetuning import finetune
from genlab.training.tasks import build_task
from genlab.worlds.text import small_world


def state_hash(model) -> str:
    h = hashlib.sha256()
    for name, value in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def main(out: Path) -> None:
    task = build_task("world_qa", small_world(), seed=0, n_train=24, n_eval=8)
    texts = list(task.train["prompt"]) + list(task.train["completion"])
    tok = train_tokenizer(texts, vocab_size=300, model_max_length=64)
    # seeded: the same start on both ranks (DDP also broadcasts rank 0's weights)
    base = tiny_bundle(tok, n_positions=64, n_embd=32, n_layer=2, n_head=2, seed=0)
    base.provenance = {"name": "ddp-tiny"}
    report = {"rank": int(os.environ["RANK"]), "env_world_size": int(os.environ["WORLD_SIZE"])}
    runs = {
        "full_fgm": {"method": "full", "adversarial": AdversarialConfig("fgm", epsilon=0.5), "save_steps": 2},
        "lora": {"method": "lora"},
    }
    for name, kwargs in runs.items():
        tuned, record = finetune(base, task, steps=3, batch_size=4, progress=False, output_dir=out / name, **kwargs)
        report[name] = {
            "hash": state_hash(tuned.model),
            "world_size": record.world_size,
            "tokens_seen": record.tokens_seen,
            "eval_loss": record.eval_loss,
        }
    report["dist_world_size"] = dist.get_world_size() if dist.is_initialized() else 1
    (out / f"rank{report['rank']}.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
