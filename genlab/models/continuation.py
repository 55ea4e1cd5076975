"""Log-probabilities of continuations given prompts: genlab's one continuation scorer.

``continuation_logprobs(bundle, prompts, continuations)`` returns, for every prompt, log p(continuation | prompt)
summed over the continuation's tokens, for each of its continuations. Cloze probes, candidate ranking,
association probes, sentence-pair scoring and canary exposure all score through it. Three ways, one meaning:

- **Causal LM, few options per prompt** (``strategy="tree"``): the prompt and all its options in **one** row of
  a forward pass. The options' tokens are laid out as a prefix tree after the prompt, with a tree attention mask
  and matching position ids, so the prompt is encoded once and shared option prefixes (" a", " an") once.
- **Causal LM, many options per prompt** (``strategy="cache"``; canary exposure scores 10,000 candidate secrets
  for one prompt): the prompt is run once, and its key-value cache is copied to every batch of options.
- **Masked LM**: the pseudo-log-likelihood of the continuation (Salazar et al. 2020, "Masked Language Model
  Scoring", ACL): each continuation token is masked in turn, with the prompt and the rest of the continuation
  visible, and the log-probabilities of the true tokens are summed. :func:`pseudo_log_likelihoods` is the
  general form (any positions of any sequences), for probes such as CrowS-Pairs that score other positions.

``strategy="auto"`` (the default) picks the tree for prompts whose options fit ``TREE_MAX_NODES`` tree nodes,
the cache otherwise. PEFT models of every kind genlab trains work: LoRA and IA3 like their merged weights,
prompt- and prefix-tuned models after their virtual tokens (:func:`genlab.models.prefix.virtual_prefix`).
The model scores in eval mode (no dropout); its mode is restored afterwards.

>>> from genlab.models.tiny import tiny_bundle
>>> bundle = tiny_bundle()
>>> tree = continuation_logprobs(bundle, ["the cat"], [[" sat", " sat on", " mat"]], strategy="tree")
>>> cache = continuation_logprobs(bundle, ["the cat"], [[" sat", " sat on", " mat"]], strategy="cache")
>>> [round(x, 4) for x in tree[0]] == [round(x, 4) for x in cache[0]]
True
>>> tree[0][1] < tree[0][0]        # a longer continuation adds a log-probability <= 0
True
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch

from genlab.models.modes import eval_mode
from genlab.models.prefix import cache_keyword, virtual_prefix

__all__ = ["TREE_MAX_NODES", "continuation_logprobs", "pseudo_log_likelihoods"]

#: Options of one prompt are scored in one tree row up to this many tree nodes; beyond it, through the KV cache.
TREE_MAX_NODES = 256

Strategy = Literal["auto", "tree", "cache"]


def continuation_logprobs(
    bundle,
    prompts: Sequence[str],
    continuations: Sequence[Sequence[str]],
    *,
    batch_size: int = 32,
    add_bos: bool = True,
    strategy: Strategy = "auto",
) -> list[list[float]]:
    """log p(continuation | prompt), summed over the continuation's tokens, for every continuation of every prompt.

    Args:
        bundle: a :class:`genlab.models.Bundle` of kind ``"causal"`` or ``"masked"``.
        prompts: the contexts.
        continuations: for each prompt, its continuations (each non-empty; give them their leading space, as they
            follow the prompt in text: ``" Willowby"``). Each continuation is tokenised on its own and its tokens
            appended to the prompt's, which is how a byte-level BPE splits text at a space.
        batch_size: rows per forward pass: prompts (tree), options (cache) or masked copies (masked LM).
        add_bos: put the tokenizer's BOS (causal) or CLS (masked) before every prompt, when it has one, as genlab
            models were trained.
        strategy: ``"tree"``, ``"cache"`` or ``"auto"`` (see the module docstring); causal LMs only.
    """
    prompts = list(prompts)
    if isinstance(prompts, str) or len(prompts) != len(continuations):
        raise ValueError(f"got {len(prompts)} prompts but {len(continuations)} continuation lists; give one list each")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if strategy not in ("auto", "tree", "cache"):
        raise ValueError(f"strategy must be 'auto', 'tree' or 'cache', got {strategy!r}")
    kind = getattr(bundle, "kind", "causal")
    if kind not in ("causal", "masked"):
        raise ValueError(f"continuation scoring needs a causal or masked language model; this bundle is {kind!r}")
    tok = bundle.tokenizer
    start = tok.bos_token_id if kind == "causal" else getattr(tok, "cls_token_id", None)
    prompt_ids = _encode(tok, prompts, [start] if add_bos and start is not None else [])
    if kind == "causal" and any(len(x) == 0 for x in prompt_ids):
        raise ValueError(
            "an empty prompt has no token to predict the first continuation token from; "
            "give every prompt some text or keep add_bos=True with a tokenizer that has a BOS"
        )
    options: dict[tuple[str, ...], list[list[int]]] = {}  # prompts that share their options encode them once
    for conts in continuations:
        key = tuple(conts)
        if key not in options:
            options[key] = _encode(tok, key, [])
            for text, ids in zip(key, options[key], strict=True):
                if not ids:
                    raise ValueError(f"continuation {text!r} has no tokens; every option must be non-empty")
    rows = [(prompt_ids[i], tuple(continuations[i])) for i in range(len(prompts))]
    model = bundle.model
    with eval_mode(model):
        with torch.no_grad():
            if kind == "masked":
                return _masked(bundle, rows, options, batch_size)
            return _causal(bundle, rows, options, batch_size, strategy)


def _encode(tok, texts: Sequence[str], head: list[int]) -> list[list[int]]:
    ids = tok(list(texts), add_special_tokens=False)["input_ids"] if texts else []
    return [head + list(x) for x in ids]


def _pad_id(tok) -> int:
    return tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)


# --- causal LMs -------------------------------------------------------------------------------------------------
def _causal(bundle, rows, options, batch_size: int, strategy: Strategy) -> list[list[float]]:
    tries = {key: _Trie(ids, key) for key, ids in options.items()}
    out: list[list[float]] = [[] for _ in rows]
    use_tree = [strategy == "tree" or (strategy == "auto" and tries[key].n_nodes <= TREE_MAX_NODES) for _, key in rows]
    tree_rows = [i for i, t in enumerate(use_tree) if t]
    if tree_rows:
        scores = _tree_scores(bundle, [(rows[i][0], tries[rows[i][1]]) for i in tree_rows], batch_size)
        for i, s in zip(tree_rows, scores, strict=True):
            out[i] = s
    for i, t in enumerate(use_tree):
        if not t:
            out[i] = _cached_scores(bundle, rows[i][0], options[rows[i][1]], batch_size)
    return out


def _tree_scores(bundle, rows: list[tuple[list[int], _Trie]], batch_size: int) -> list[list[float]]:
    model, dev = bundle.model, bundle.device
    pad_id = _pad_id(bundle.tokenizer)
    prefix = virtual_prefix(model)  # prompt/prefix tuning: the base model runs after the cached virtual tokens
    runner = model if prefix is None else prefix.base
    n_virtual = 0 if prefix is None else prefix.length
    out: list[list[float]] = [[] for _ in rows]
    order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]) + rows[i][1].n_nodes)
    dtype = next(model.parameters()).dtype
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        input_ids, position_ids, allowed, gather = _tree_batch([rows[i] for i in batch], pad_id)
        bias = torch.zeros(allowed.shape, dtype=dtype)
        bias[~torch.from_numpy(allowed)] = torch.finfo(dtype).min  # additive mask: eager and sdpa alike
        bias = torch.cat([bias.new_zeros(*bias.shape[:2], n_virtual), bias], dim=2)  # virtual: always seen
        row_idx, pos_idx, tok_idx, cont_idx = (torch.from_numpy(a).to(dev) for a in gather)
        keep = torch.zeros(input_ids.shape, dtype=torch.bool, device=dev)
        keep[row_idx, pos_idx] = True  # the LM head runs only where an option token is predicted
        inputs = {
            "input_ids": torch.from_numpy(input_ids).to(dev),
            "use_cache": False,
            "position_ids": torch.from_numpy(position_ids + n_virtual).to(dev),
            "attention_mask": bias[:, None].to(dev),
        }
        if prefix is not None:
            inputs.update({"use_cache": True, prefix.cache_key: prefix.cache(len(batch))})
        n_keep = int(keep.sum())
        with torch.no_grad():
            try:
                logits = runner(**inputs, logits_to_keep=keep).logits  # (K, V): the kept positions, row-major
            except (TypeError, IndexError):  # a model without (boolean) logits_to_keep
                logits = None
            if logits is None or (
                logits.shape[0] != n_keep if logits.ndim == 2 else logits.shape[:2] != keep.shape
            ):
                if prefix is not None:  # the first call appended to the cache: start again from the prefix
                    inputs[prefix.cache_key] = prefix.cache(len(batch))
                logits = runner(**inputs).logits  # full (B, T, V) logits
        if logits.ndim == 2:
            flat = torch.full(keep.shape, -1, dtype=torch.long, device=dev)
            flat[keep] = torch.arange(n_keep, device=dev)
            picked = logits[flat[row_idx, pos_idx]]
        else:
            picked = logits[row_idx, pos_idx]
        token_lp = torch.log_softmax(picked.float(), dim=-1).gather(1, tok_idx[:, None])[:, 0]  # (M,)
        n_cont = max(len(rows[i][1].conts) for i in batch)
        sums = torch.zeros(len(batch) * n_cont, dtype=torch.float64, device=dev)
        sums.index_add_(0, row_idx * n_cont + cont_idx, token_lp.double())
        sums = sums.view(len(batch), n_cont).cpu().tolist()
        for r, i in enumerate(batch):
            out[i] = sums[r][: len(rows[i][1].conts)]
    return out


def _cached_scores(bundle, prompt: list[int], options: list[list[int]], batch_size: int) -> list[float]:
    """The prompt once, then its key-value cache copied to each batch of options (right-padded, padding masked
    out of the sum). The same numbers as the tree, up to floating point."""
    model, dev = bundle.model, bundle.device
    pad = _pad_id(bundle.tokenizer)
    prefix = virtual_prefix(model)
    runner = model if prefix is None else prefix.base
    n_virtual = 0 if prefix is None else prefix.length
    inputs = {"input_ids": torch.tensor([prompt], device=dev), "use_cache": True}
    if prefix is not None:
        inputs[prefix.cache_key] = prefix.cache(1)
        inputs["attention_mask"] = torch.ones(1, n_virtual + len(prompt), dtype=torch.long, device=dev)
        inputs["position_ids"] = torch.arange(n_virtual, n_virtual + len(prompt), device=dev)[None]
    head = runner(**inputs)
    # newer transformers 5.x name the output's cache `cache`, and reading the old `past_key_values` logs a deprecation
    head_cache = getattr(head, "cache", None)
    head_cache = getattr(head, "past_key_values", None) if head_cache is None else head_cache
    cache_key = cache_keyword(runner)
    first_lp = torch.log_softmax(head.logits[0, -1].float(), dim=-1)  # predicts each option's first token
    out = np.empty(len(options), dtype=float)
    context = n_virtual + len(prompt)
    for start in range(0, len(options), batch_size):
        batch = options[start : start + batch_size]
        width = max(map(len, batch))
        ids = torch.tensor([r + [pad] * (width - len(r)) for r in batch], device=dev)
        valid = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in batch], device=dev)
        total = first_lp[ids[:, 0]].double()
        if width > 1:
            cache = copy.deepcopy(head_cache)
            cache.batch_repeat_interleave(len(batch))
            mask = torch.cat([torch.ones(len(batch), context, dtype=valid.dtype, device=dev), valid], dim=1)
            step = {"input_ids": ids[:, :-1], "attention_mask": mask[:, :-1], "use_cache": True}
            if prefix is not None:
                step["position_ids"] = torch.arange(context, context + width - 1, device=dev).expand(len(batch), -1)
            step[cache_key] = cache
            logits = runner(**step).logits
            lp = torch.log_softmax(logits.float(), dim=-1).gather(2, ids[:, 1:, None])[..., 0]
            total += (lp * valid[:, 1:]).double().sum(dim=1)
        out[start : start + len(batch)] = total.cpu().numpy()
    return out.tolist()


class _Trie:
    """The options of a probe as a prefix tree. Nodes are the token prefixes that some option continues
    (the tokens fed after the prompt); an option's k-th token is predicted at its (k-1)-th prefix node,
    or at the prompt's last position for k = 0."""

    def __init__(self, ids: list[list[int]], texts: Sequence[str]):
        node_of: dict[tuple[int, ...], int] = {}
        tokens, parents = [], []
        self.conts = []  # per option: (source node of each token, -1 = prompt end; token ids)
        for text, cont in zip(texts, ids, strict=True):
            if not cont:
                raise ValueError(f"continuation {text!r} has no tokens; every option must be non-empty")
            src, parent = [], -1
            for k, t in enumerate(cont):
                src.append(parent)
                if k < len(cont) - 1:  # a prefix that is continued must be fed to the model
                    key = tuple(cont[: k + 1])
                    if key not in node_of:
                        node_of[key] = len(tokens)
                        tokens.append(t)
                        parents.append(parent)
                    parent = node_of[key]
            self.conts.append((src, cont))
        n = len(tokens)
        self.n_nodes = n
        self.tokens = np.array(tokens, dtype=np.int64)
        self.depth = np.zeros(n, dtype=np.int64)
        self.ancestors = np.zeros((n, n), dtype=bool)  # [i, j]: node i may attend to node j (an ancestor or itself)
        for i, p in enumerate(parents):  # parents are created before their children
            if p >= 0:
                self.ancestors[i] = self.ancestors[p]
                self.depth[i] = self.depth[p] + 1
            self.ancestors[i, i] = True


def _tree_batch(rows: list[tuple[list[int], _Trie]], pad_id: int):
    """Right-padded ids, position ids, attention pattern and gather indices for one batch of
    (prompt ids, option trie) rows. Row layout: prompt tokens, then the trie's nodes."""
    width = max(len(p) + t.n_nodes for p, t in rows)
    b = len(rows)
    input_ids = np.full((b, width), pad_id, dtype=np.int64)
    position_ids = np.zeros((b, width), dtype=np.int64)
    allowed = np.zeros((b, width, width), dtype=bool)
    allowed[:, np.arange(width), np.arange(width)] = True  # padding attends to itself only: no all-masked row
    row_idx, pos_idx, tok_idx, cont_idx = [], [], [], []
    for r, (prompt, trie) in enumerate(rows):
        lp, n = len(prompt), trie.n_nodes
        input_ids[r, :lp] = prompt
        input_ids[r, lp : lp + n] = trie.tokens
        position_ids[r, :lp] = np.arange(lp)
        position_ids[r, lp : lp + n] = lp + trie.depth  # an option's k-th token sits at position lp + k
        allowed[r, :lp, :lp] = np.tril(np.ones((lp, lp), dtype=bool))
        allowed[r, lp : lp + n, :lp] = True  # every option sees the whole prompt ...
        allowed[r, lp : lp + n, lp : lp + n] = trie.ancestors  # ... and its own earlier tokens, not other options'
        for c, (src, cont) in enumerate(trie.conts):
            for s, t in zip(src, cont, strict=True):
                row_idx.append(r)
                pos_idx.append(lp - 1 if s < 0 else lp + s)
                tok_idx.append(t)
                cont_idx.append(c)
    gather = tuple(np.array(a, dtype=np.int64) for a in (row_idx, pos_idx, tok_idx, cont_idx))
    return input_ids, position_ids, allowed, gather


# --- masked LMs -------------------------------------------------------------------------------------------------
def pseudo_log_likelihoods(
    bundle, sequences: Sequence[Sequence[int]], positions: Sequence[Sequence[int]], *, batch_size: int = 32
) -> list[float]:
    """For each token-id sequence, the sum over its ``positions`` of log p(token | the sequence with that one token
    masked): the pseudo-log-likelihood of Salazar et al. 2020 restricted to those positions (all of them: PLL;
    the unmodified tokens of a sentence pair: the CrowS-Pairs score of Nangia et al. 2020). One masked copy per
    scored position, ``batch_size`` copies per forward pass, right-padded with an attention mask.

    >>> from genlab.models.tiny import tiny_masked_bundle
    >>> bundle = tiny_masked_bundle()
    >>> ids = bundle.tokenizer("the cat sat", add_special_tokens=False)["input_ids"]
    >>> pll = pseudo_log_likelihoods(bundle, [ids, ids], [range(len(ids)), []])
    >>> pll[0] < 0, pll[1]
    (True, 0.0)
    """
    tok, model, dev = bundle.tokenizer, bundle.model, bundle.device
    mask_id = getattr(tok, "mask_token_id", None)
    if mask_id is None:
        raise ValueError("the tokenizer has no mask token; a masked LM's tokenizer needs one (tokenizer.mask_token)")
    if len(sequences) != len(positions):
        raise ValueError(f"got {len(sequences)} sequences but {len(positions)} position lists")
    jobs = [(s, p) for s, pos in enumerate(positions) for p in pos]
    for s, p in jobs:
        if not 0 <= p < len(sequences[s]):
            raise ValueError(f"position {p} is outside sequence {s} of {len(sequences[s])} tokens")
    totals = torch.zeros(len(sequences), dtype=torch.float64)
    pad = _pad_id(tok)
    with eval_mode(model):
        with torch.no_grad():
            for start in range(0, len(jobs), batch_size):
                batch = jobs[start : start + batch_size]
                width = max(len(sequences[s]) for s, _ in batch)
                ids = torch.full((len(batch), width), pad, dtype=torch.long)
                attention = torch.zeros((len(batch), width), dtype=torch.long)
                for r, (s, _) in enumerate(batch):
                    seq = torch.as_tensor(list(sequences[s]), dtype=torch.long)
                    ids[r, : len(seq)] = seq
                    attention[r, : len(seq)] = 1
                rows = torch.arange(len(batch))
                cols = torch.tensor([p for _, p in batch])
                targets = ids[rows, cols].clone()
                ids[rows, cols] = mask_id
                logits = model(input_ids=ids.to(dev), attention_mask=attention.to(dev)).logits[rows, cols]
                lp = torch.log_softmax(logits.float(), dim=-1).gather(1, targets.to(dev)[:, None])[:, 0]
                totals.index_add_(0, torch.tensor([s for s, _ in batch]), lp.double().cpu())
    return totals.tolist()


def _masked(bundle, rows, options, batch_size: int) -> list[list[float]]:
    """PLL of each continuation after its prompt: [CLS] prompt continuation [SEP], the continuation's tokens masked
    one at a time."""
    tok = bundle.tokenizer
    tail = [tok.sep_token_id] if getattr(tok, "sep_token_id", None) is not None else []
    sequences, positions, where = [], [], []
    for i, (prompt, key) in enumerate(rows):
        for j, cont in enumerate(options[key]):
            sequences.append(prompt + cont + tail)
            positions.append(range(len(prompt), len(prompt) + len(cont)))
            where.append((i, j))
    scores = pseudo_log_likelihoods(bundle, sequences, positions, batch_size=batch_size)
    out: list[list[float]] = [[0.0] * len(key) for _, key in rows]
    for (i, j), s in zip(where, scores, strict=True):
        out[i][j] = s
    return out
