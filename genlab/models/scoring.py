"""Sequence scoring: the logits a causal LM gives every scored token, batched by length, strided for long texts.

:func:`scored_logits` is the one place genlab runs a causal LM over token sequences to score them; perplexity,
next-token metrics and coherence build on it. Windows: a text longer than ``max_length`` is scored with the
strided loop of Hugging Face's guide "Perplexity of fixed-length models" (windows of ``max_length`` tokens that
start every ``stride`` tokens; each token is scored once, by the first window that reaches it).

Speed. The windows of all texts are sorted by length and scored ``batch_size`` at a time, padded on the right
(positions 0..T-1 are then the real positions, given explicitly), with an attention mask. For architectures whose
logits are a plain linear map of the last hidden state (GPT-2, Llama, Mistral, Qwen2), the output layer runs only
on the scored tokens, not on padding or on a window's context-only tokens, and the mask is dropped: causal
attention never looks right, so right padding cannot reach a real token, and attention takes its causal fast
path. While scoring, GPT-2's "gelu_new" activation (four element-wise passes in Python) is computed by torch's
fused ``gelu(approximate="tanh")``: the same formula in one kernel (differences of about 1e-7), about a third of
the forward pass on a CPU. (The model's modules are swapped back afterwards; do not call the same model from
another thread while it is being scored.)

>>> windows(10, max_length=4, stride=2)
[(0, 4, 1), (2, 6, 4), (4, 8, 6), (6, 10, 8)]
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch

from genlab.models.modes import eval_mode
from genlab.models.prefix import context_length, virtual_prefix

__all__ = ["encode_texts", "scored_logits", "windows"]

# Architectures whose LM head is a plain linear layer on the final hidden state (no scaling or soft-capping), so
# running it on the selected positions only gives the same logits as the full forward.
_PLAIN_HEAD = {"gpt2", "llama", "mistral", "qwen2"}
_CHUNK_TOKENS = 8192  # logits are computed this many scored tokens at a time, to bound memory for large vocabularies


def windows(seq_len: int, max_length: int, stride: int) -> list[tuple[int, int, int]]:
    """(begin, end, first scored position) of each window of the HF strided loop over ``seq_len`` tokens.

    A window scores positions [first, end). Its first token has no context inside the window, so it is never
    scored: without overlap (stride = max_length) the first token of every window goes unscored, as in the guide.

    >>> windows(10, 4, 4)
    [(0, 4, 1), (4, 8, 5), (8, 10, 9)]
    >>> windows(10, 4, 2)     # overlapping windows: each scores only what the previous one did not
    [(0, 4, 1), (2, 6, 4), (4, 8, 6), (6, 10, 8)]
    """
    out, prev_end = [], 0
    for begin in range(0, seq_len, stride):
        end = min(begin + max_length, seq_len)
        trg_len = end - prev_end  # tokens not scored by an earlier window
        out.append((begin, end, max(begin + 1, end - trg_len)))
        prev_end = end
        if end == seq_len:
            break
    return out


@contextlib.contextmanager
def _fused_activations(model):
    """Swap transformers' Python "gelu_new" modules for torch's fused tanh-GELU (the same function), then restore."""
    from transformers.activations import NewGELUActivation

    swapped = [
        (parent, name, child)
        for parent in model.modules()
        for name, child in parent.named_children()
        if type(child) is NewGELUActivation
    ]
    for parent, name, _ in swapped:
        setattr(parent, name, torch.nn.GELU(approximate="tanh"))
    try:
        yield
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)


def _split_head(model):
    """(body, head) when logits = head(body(...).last_hidden_state) exactly; None to use the full forward.
    ``model``: a transformers model or a weight-changing peft adapter (LoRA, IA3), not a prompt-learning one."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model  # peft: LoRA layers live inside
    config = getattr(inner, "config", None)
    if getattr(config, "model_type", None) not in _PLAIN_HEAD or getattr(config, "final_logit_softcapping", None):
        return None
    body, head = getattr(inner, "base_model", None), inner.get_output_embeddings()
    if body is None or body is inner or not isinstance(head, torch.nn.Linear):
        return None
    return body, head


def scored_logits(
    bundle,
    token_ids: Sequence[Sequence[int]],
    *,
    max_length: int | None = None,
    stride: int | None = None,
    batch_size: int = 16,
    score_from: Sequence[int] | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Logits for every scored token of every sequence, in batches of windows sorted by length.

    Yields ``(text_index, position, target, logits)``: (N,), (N,), (N,) long tensors on the CPU and (N, V) float32
    logits on the model's device, where ``logits[n]`` predicts ``token_ids[text_index[n]][position[n]]`` from the
    tokens before it (within its window). ``score_from[i]``: positions of sequence i before it are context only
    (e.g. a prompt). Used by :func:`perplexity`, :mod:`genlab.probes.next_token` and
    :mod:`genlab.metrics.coherence`.

    PEFT: LoRA and IA3 adapters score like their merged weights. Prompt- and prefix-tuned models score the tokens
    after their virtual tokens, which take the first ``num_virtual_tokens`` positions (as in training): the base
    model runs with them as a cached prefix (:func:`genlab.models.prefix.virtual_prefix`), the logits are those of the
    real tokens only, and the usable context is ``n_positions - num_virtual_tokens``. The same tokens are scored as
    for the base model: a window's first token is not, although the virtual tokens precede it (peft's own
    ``labels=`` loss does score it, from the last virtual position), so token counts stay comparable.
    """
    model = bundle.model
    prefix = virtual_prefix(model)  # None unless prompt learning
    runner = model if prefix is None else prefix.base
    n_virtual = 0 if prefix is None else prefix.length
    limit = context_length(runner)
    if limit is None:  # no position limit: one window holds the longest sequence
        limit = n_virtual + max(map(len, token_ids), default=1)
    context = limit - n_virtual
    max_length = max_length or context
    stride = stride or max_length
    if not 0 < max_length <= context:
        virtual = f" less its adapter's {n_virtual} virtual tokens" if n_virtual else ""
        raise ValueError(f"max_length must be in (0, {context}] (the model's context{virtual}), got {max_length}")
    if not 0 < stride <= max_length:
        raise ValueError(f"stride must be in (0, max_length={max_length}], got {stride}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")

    start = [1] * len(token_ids) if score_from is None else [max(1, int(s)) for s in score_from]
    if len(start) != len(token_ids):
        raise ValueError(f"score_from needs one position per sequence: {len(start)} for {len(token_ids)}")
    jobs = [
        (t, b, e, max(f, start[t]))
        for t, ids in enumerate(token_ids)
        if len(ids) > 1
        for b, e, f in windows(len(ids), max_length, stride)
        if e > start[t]
    ]
    jobs.sort(key=lambda j: j[2] - j[1], reverse=True)  # longest first: similar lengths share a batch
    split = _split_head(runner)
    device = bundle.device
    with eval_mode(model):  # dropout off, or perplexity is noise
        with torch.inference_mode(), _fused_activations(model):
            for i in range(0, len(jobs), batch_size):
                batch = jobs[i : i + batch_size]
                width = batch[0][2] - batch[0][1]
                ids = torch.zeros(len(batch), width, dtype=torch.long)  # right padding with id 0 (masked out)
                scored = torch.zeros(len(batch), width, dtype=torch.bool)  # window positions whose token is scored
                for row, (t, b, e, f) in enumerate(batch):
                    ids[row, : e - b] = torch.as_tensor(token_ids[t][b:e])
                    scored[row, f - b : e - b] = True
                lengths = torch.tensor([e - b for _, b, e, _ in batch])
                mask = (torch.arange(width)[None, :] < lengths[:, None]).long()  # (B, T)
                # right padding: real positions start at 0, or after the virtual tokens
                positions = (torch.arange(width) + n_virtual).expand(len(batch), -1)
                rows, cols = scored.nonzero(as_tuple=True)  # (N,) each: token at (row, col) predicted from col - 1
                text_index = torch.tensor([batch[r][0] for r in rows.tolist()], dtype=torch.long)
                position = cols + torch.tensor([batch[r][1] for r in rows.tolist()], dtype=torch.long)
                target = ids[rows, cols]
                inputs = {
                    "input_ids": ids.to(device),
                    "attention_mask": mask.to(device),
                    "position_ids": positions.to(device),
                    "use_cache": False,
                }
                if prefix is not None:  # the virtual tokens: a cached prefix, always attended to
                    inputs.update(use_cache=True, attention_mask=prefix.extend_mask(inputs["attention_mask"]))
                    inputs[prefix.cache_key] = prefix.cache(len(batch))
                if split is not None:
                    # Causal attention never looks right, so right padding cannot reach a real token: without a
                    # mask, attention can take its causal fast path (it skips the upper triangle).
                    del inputs["attention_mask"]
                    body, head = split
                    hidden = body(**inputs).last_hidden_state[rows.to(device), cols.to(device) - 1]  # (N, H)
                    for s in range(0, len(rows), _CHUNK_TOKENS):
                        sl = slice(s, s + _CHUNK_TOKENS)
                        yield text_index[sl], position[sl], target[sl], head(hidden[sl]).float()
                else:
                    logits = runner(**inputs).logits[rows.to(device), cols.to(device) - 1].float()  # (N, V)
                    yield text_index, position, target, logits


def encode_texts(tok, texts: Sequence[str], add_bos: bool) -> list[list[int]]:
    """Token ids of each text, after the BOS id when ``add_bos`` (genlab models were trained that way)."""
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise ValueError("texts must be a list of strings (wrap a single text in a list)")
    if add_bos and tok.bos_token_id is None:
        raise ValueError("add_bos=True but the tokenizer has no BOS token; pass add_bos=False")
    # verbose=False: no "longer than the specified maximum sequence length" warning; the callers cut long texts into
    # windows of the model's context themselves (see windows)
    ids = tok(list(texts), add_special_tokens=False, verbose=False)["input_ids"] if texts else []
    return [([tok.bos_token_id] if add_bos else []) + list(x) for x in ids]
