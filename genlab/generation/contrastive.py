"""Contrastive search (Su et al., 2022) as a ``custom_generate`` callable for ``model.generate``.

transformers 5 moved contrastive search to a hub repository (it needs ``trust_remote_code`` and a network), so
genlab ships its own. At step t, among the k most likely next tokens V^(k), pick (Su et al. 2022, Eq. 5)

    x_t = argmax_{v in V^(k)} (1 - alpha) * p(v | x_<t) - alpha * max_{j < t} cos(h_v, h_{x_j})

where h are the model's last-layer hidden states: h_v that of the candidate v appended to the context, h_{x_j}
those of the tokens already in the sequence (prompt included, padding excluded). alpha = 0 is greedy search.

>>> import torch
>>> from transformers import GPT2Config, GPT2LMHeadModel
>>> _ = torch.manual_seed(0)
>>> model = GPT2LMHeadModel(GPT2Config(vocab_size=40, n_positions=32, n_embd=16, n_layer=1, n_head=2,
...                                    bos_token_id=0, eos_token_id=0, pad_token_id=1)).eval()
>>> prompt = torch.tensor([[0, 5, 6, 7]])
>>> out = model.generate(prompt, penalty_alpha=0.6, top_k=4, max_new_tokens=6, custom_generate=contrastive_search)
>>> out.shape
torch.Size([1, 10])
>>> greedy = model.generate(prompt, do_sample=False, max_new_tokens=6)
>>> bool((model.generate(prompt, penalty_alpha=0.0, top_k=4, max_new_tokens=6,
...                      custom_generate=contrastive_search) == greedy).all())   # alpha = 0 is greedy
True
"""

from __future__ import annotations

import torch

__all__ = ["contrastive_search", "degeneration_penalty"]


def degeneration_penalty(
    candidate_hidden: torch.Tensor, context_hidden: torch.Tensor, context_mask: torch.Tensor
) -> torch.Tensor:
    """max_j cos(h_v, h_j) over the unmasked context positions j (Su et al. 2022, Eq. 5).

    candidate_hidden: (B, k, H); context_hidden: (B, T, H); context_mask: (B, T), 1 for real tokens.
    Returns (B, k).

    >>> h = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])              # two candidates
    >>> ctx = torch.tensor([[[1.0, 1.0], [-1.0, 0.0]]])           # two context tokens
    >>> degeneration_penalty(h, ctx, torch.tensor([[1, 1]])).round(decimals=4)
    tensor([[0.7071, 0.7071]])
    >>> degeneration_penalty(h, ctx, torch.tensor([[0, 1]]))      # the first context token is padding
    tensor([[-1.,  0.]])
    """
    cand = candidate_hidden / candidate_hidden.norm(dim=-1, keepdim=True)
    ctx = context_hidden / context_hidden.norm(dim=-1, keepdim=True)
    cos = torch.bmm(cand, ctx.transpose(1, 2))  # (B, k, T)
    cos = cos.masked_fill(context_mask[:, None, :] == 0, float("-inf"))
    return cos.max(dim=-1).values


def _forward(model, input_ids, attention_mask, position_ids, cache, logits_to_keep):
    kwargs = {"logits_to_keep": logits_to_keep} if logits_to_keep is not None else {}
    out = model(
        input_ids=input_ids,
        attention_mask=attention_mask,
        position_ids=position_ids,
        cache=cache,
        use_cache=cache is not None,
        output_hidden_states=True,
        return_dict=True,
        **kwargs,
    )
    return out.logits[:, -1, :].float(), out.hidden_states[-1]  # (B, V), (B, T, H)


@torch.no_grad()
def contrastive_search(
    model,
    input_ids: torch.LongTensor,
    logits_processor,
    stopping_criteria,
    generation_config,
    synced_gpus: bool = False,
    streamer=None,
    **model_kwargs,
):
    """Contrastive search for decoder-only models; pass it as ``custom_generate`` with ``penalty_alpha`` and ``top_k``.

    ``model.generate(**enc, penalty_alpha=0.6, top_k=5, custom_generate=contrastive_search)`` (the authors'
    defaults, Su et al. 2022). Works batched with left padding (the attention mask gives the positions and keeps
    padding out of the penalty) and with or without the KV cache (``use_cache=False`` re-runs the whole sequence
    each step: slower, same tokens). A cache passed in that already holds P positions (a prefix, e.g. the virtual
    tokens of a prompt-tuned model) needs an attention mask over P + T positions; the prefix conditions the model
    but is left out of the degeneration penalty (the cache keeps no hidden states to compare with). With the cache,
    each step runs one forward pass over the B*k candidates on a cache repeated k times, then keeps the chosen
    candidate's cache row, hidden state and logits, so no pass is spent re-encoding the chosen token. Logits
    processors from ``generate`` (e.g. ``repetition_penalty``) are applied before the softmax, as in the original
    transformers implementation. Returns the sequences (prompt + new tokens), or a ``GenerateDecoderOnlyOutput``
    with ``sequences`` and ``scores`` when ``return_dict_in_generate=True``.
    """
    if model.config.is_encoder_decoder:
        raise ValueError("contrastive_search supports decoder-only models; this model is an encoder-decoder")
    alpha, k = generation_config.penalty_alpha, generation_config.top_k
    if alpha is None or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"contrastive search needs penalty_alpha in [0, 1] (Su et al. use 0.6), got {alpha!r}")
    if k is None or k < 1:
        raise ValueError(f"contrastive search needs top_k >= 1 candidates (Su et al. use 5), got {k!r}")
    if synced_gpus:
        raise ValueError("contrastive_search does not support synced_gpus (DeepSpeed ZeRO-3 / FSDP generation)")

    batch, device = input_ids.shape[0], input_ids.device
    pad_id = generation_config._pad_token_tensor
    has_eos = any(hasattr(c, "eos_token_id") for c in stopping_criteria)
    if has_eos and pad_id is None:
        raise ValueError("set pad_token_id: finished sequences are filled with it while others continue")
    want_scores = generation_config.return_dict_in_generate and generation_config.output_scores
    scores = () if want_scores else None

    given = model_kwargs.get("cache")
    n_prefix = given.get_seq_length() if given is not None else 0  # positions already cached, e.g. virtual tokens
    cache = given if model_kwargs.get("use_cache", True) else None
    if n_prefix and cache is None:
        raise ValueError("a cache that already holds a prefix needs use_cache=True (the prefix lives only there)")
    mask = model_kwargs.get("attention_mask")
    mask = input_ids.new_ones(batch, n_prefix + input_ids.shape[1]) if mask is None else mask  # (B, P+T)
    if mask.shape[1] != n_prefix + input_ids.shape[1]:
        raise ValueError(
            f"attention_mask covers {mask.shape[1]} positions; the cache holds {n_prefix} and input_ids "
            f"{input_ids.shape[1]}: it must cover both"
        )
    keep = model_kwargs.get("logits_to_keep")
    rows = torch.arange(batch, device=device)

    # Prefill: logits for the first step and the context's hidden states for the penalty. A cached prefix is
    # context for the model, not for the penalty: its hidden states are not kept, only its keys and values.
    position_ids = (mask.cumsum(-1) - 1).clamp(min=0)[:, n_prefix:]  # left padding: real tokens follow the prefix
    logits, context_hidden = _forward(model, input_ids, mask, position_ids, cache, keep)  # (B, V), (B, T, H)
    unfinished = torch.ones(batch, dtype=torch.bool, device=device)

    while True:
        next_scores = logits_processor(input_ids, logits)  # (B, V)
        if want_scores:
            scores += (next_scores,)
        top_p, top_ids = next_scores.softmax(dim=-1).topk(k, dim=-1)  # (B, k) each

        # Every candidate appended to its own sequence: one forward pass over B*k rows.
        cand_mask = torch.cat([mask, mask.new_ones(batch, 1)], dim=1).repeat_interleave(k, dim=0)  # (B*k, T+1)
        if cache is not None:
            cache.batch_repeat_interleave(k)
            cand_ids = top_ids.reshape(-1, 1)  # (B*k, 1)
            cand_pos = mask.sum(-1, keepdim=True).repeat_interleave(k, dim=0)  # next position of each row
        else:
            cand_ids = torch.cat([input_ids.repeat_interleave(k, dim=0), top_ids.reshape(-1, 1)], dim=1)
            cand_pos = (cand_mask.cumsum(-1) - 1).clamp(min=0)
        cand_logits, cand_hidden = _forward(model, cand_ids, cand_mask, cand_pos, cache, keep)
        cand_hidden = cand_hidden[:, -1, :].reshape(batch, k, -1)  # (B, k, H)

        penalty = degeneration_penalty(cand_hidden, context_hidden, mask[:, n_prefix:])  # (B, k)
        best = ((1.0 - alpha) * top_p - alpha * penalty).argmax(dim=-1)  # (B,)
        next_tokens = top_ids[rows, best]
        if has_eos:  # finished rows keep receiving padding
            next_tokens = torch.where(unfinished, next_tokens, pad_id.to(device))

        chosen = rows * k + best  # the chosen candidate's row among the B*k
        if cache is not None:
            cache.batch_select_indices(chosen)
        logits = cand_logits[chosen]
        context_hidden = torch.cat([context_hidden, cand_hidden[rows, best][:, None, :]], dim=1)
        input_ids = torch.cat([input_ids, next_tokens[:, None]], dim=1)
        mask = torch.cat([mask, mask.new_ones(batch, 1)], dim=1)
        if streamer is not None:
            streamer.put(next_tokens.cpu())
        unfinished &= ~stopping_criteria(input_ids, scores)
        if not unfinished.any():
            break

    if streamer is not None:
        streamer.end()
    if generation_config.return_dict_in_generate:
        from transformers.generation.utils import GenerateDecoderOnlyOutput

        return GenerateDecoderOnlyOutput(sequences=input_ids, scores=scores, cache=cache)
    return input_ids
