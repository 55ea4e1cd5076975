"""Prompt/completion pairs as training examples: ``[BOS] prompt completion [EOS]`` with the loss on the completion
only, and the collator that pads them.

>>> collate = CompletionCollator(pad_token_id=0)
>>> batch = collate([{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]}, {"input_ids": [5], "labels": [-100]}])
>>> batch["input_ids"].tolist(), batch["attention_mask"].tolist()
([[5, 6, 7], [5, 0, 0]], [[1, 1, 1], [1, 0, 0]])
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

__all__ = ["CompletionCollator", "encode_pairs", "quiet_datasets"]


@contextlib.contextmanager
def quiet_datasets():
    """Silence ``datasets``' per-call progress bars ("Map: 100%") for small, fast maps; restore the setting after."""
    import datasets

    was_disabled = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if not was_disabled:
            datasets.enable_progress_bars()


def encode_pairs(tokenizer, dataset, max_length: int | None = None):
    """``input_ids = [BOS] prompt completion [EOS]`` and ``labels`` = -100 over BOS and the prompt.

    Prompt and completion are tokenised separately and concatenated, so the loss boundary falls exactly between
    them (completions start with a space or follow a newline, where byte-level BPE splits words anyway).

    >>> from genlab.data.tokenizer import train_tokenizer
    >>> import datasets
    >>> tok = train_tokenizer(["Question: where? Answer: here"] * 20, vocab_size=300)
    >>> pairs = datasets.Dataset.from_dict({"prompt": ["Question: where?"], "completion": [" here"]})
    >>> row = encode_pairs(tok, pairs)[0]
    >>> n_prompt = 1 + len(tok("Question: where?")["input_ids"])
    >>> row["labels"][:n_prompt] == [-100] * n_prompt, row["labels"][n_prompt:] == row["input_ids"][n_prompt:]
    (True, True)
    >>> row["input_ids"][0] == row["input_ids"][-1] == tok.eos_token_id
    True
    """
    if tokenizer.pad_token_id is None or tokenizer.pad_token_id == tokenizer.eos_token_id:
        raise ValueError(
            "the tokenizer needs a pad token distinct from EOS (genlab uses '<pad>'); otherwise the "
            "completion's closing EOS would be masked as padding and the model would not learn to stop"
        )
    missing = {"prompt", "completion"} - set(dataset.column_names)
    if missing:
        raise ValueError(f"the dataset needs 'prompt' and 'completion' columns; missing {sorted(missing)}")
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    max_length = max_length or getattr(tokenizer, "model_max_length", None) or 1024

    def encode(batch):
        prompts = tokenizer(batch["prompt"], add_special_tokens=False)["input_ids"]
        completions = tokenizer(batch["completion"], add_special_tokens=False)["input_ids"]
        ids, labels = [], []
        for p, c in zip(prompts, completions, strict=True):
            ids.append(([bos] + p + c + [eos])[:max_length])
            labels.append(([-100] * (1 + len(p)) + c + [eos])[:max_length])
        return {"input_ids": ids, "labels": labels, "length": [len(x) for x in ids]}

    with quiet_datasets():
        return dataset.map(encode, batched=True, remove_columns=dataset.column_names)


@dataclass
class CompletionCollator:
    """Right-pads ``input_ids`` with ``<pad>`` and ``labels`` with -100; builds the attention mask."""

    pad_token_id: int

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        width = max(len(f["input_ids"]) for f in features)
        ids = torch.full((len(features), width), self.pad_token_id, dtype=torch.long)  # (B, T)
        labels = torch.full((len(features), width), -100, dtype=torch.long)
        mask = torch.zeros((len(features), width), dtype=torch.long)
        for i, f in enumerate(features):
            n = len(f["input_ids"])
            ids[i, :n] = torch.as_tensor(f["input_ids"])
            labels[i, :n] = torch.as_tensor(f["labels"])
            mask[i, :n] = 1
        return {"input_ids": ids, "labels": labels, "attention_mask": mask}
