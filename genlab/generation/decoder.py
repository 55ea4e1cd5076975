"""Batched generation over prompts x decoding configurations, returned as one tidy DataFrame.

One row per (prompt, config, sample): the columns are ``prompt_id, prompt, config, sample_id, text, tokens,
n_new_tokens, finished, seed``. ``text`` decodes the new tokens only, without special tokens; ``tokens`` are the
new token ids up to, not including, the EOS that ended the text; ``finished`` says whether EOS was reached.

Determinism. Sampling uses the Gumbel-max trick (Gumbel 1954; Maddison et al. 2014): argmax(scores + G) with
G ~ Gumbel(0, 1) i.i.d. is an exact sample from softmax(scores). The noise of each (prompt_id, sample_id) row comes
from its own generator, seeded from (seed, prompt_id, sample_id), so a row's text does not depend on the batch
size, on which other prompts share its batch, or on sharding (``prompt_id`` stays the index in the full list).
(Up to floating point: a different amount of left padding can change logits in the last bits, which could flip
a near tie.) Configs share the random numbers of a row, so two sampling configs differ by their settings, not by
their draws. Greedy, beam and contrastive search are deterministic; with ``n_samples > 1`` they are run once and
the row repeated.

PEFT models. LoRA and IA3 adapters change weights and generate like any model. Prompt tuning (Lester et al. 2021)
and prefix tuning (Li & Liang 2021) put ``num_virtual_tokens`` learned positions before every sequence; under
transformers 5, ``PeftModel.generate`` fails or mis-places them for these. :func:`virtual_prefix` turns both into
what the base model sees, a KV cache of the virtual positions, and :func:`generate_ids` runs the base model's own
``generate`` after it: ``[virtual][padding][prompt]``, with positions taken from the attention mask, as in training.

>>> from genlab.models.tiny import tiny_bundle
>>> bundle = tiny_bundle(padding_side="left")
>>> df = generate(bundle, ["the cat", "a"], ["greedy", "nucleus0.95"], n_samples=2, max_new_tokens=5)
>>> df.shape
(8, 9)
>>> df.groupby("config").size().to_dict()
{'greedy': 4, 'nucleus0.95': 4}
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import torch

from genlab.core.distributed import map_sharded, rank_and_world_size
from genlab.core.progress import progress_enabled
from genlab.generation.contrastive import contrastive_search
from genlab.models.modes import eval_mode
from genlab.models.prefix import context_length, virtual_prefix

__all__ = ["DecodingConfig", "PRESETS", "decoding_problems", "generate", "generate_ids", "greedy", "preset"]

COLUMNS = ["prompt_id", "prompt", "config", "sample_id", "text", "tokens", "n_new_tokens", "finished", "seed"]


_KNOBS = ("do_sample", "num_beams", "temperature", "top_k", "top_p", "typical_p", "repetition_penalty",
          "no_repeat_ngram_size", "penalty_alpha")


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def decoding_problems(
    *,
    do_sample: bool = False,
    num_beams: int = 1,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    typical_p: float = 1.0,
    repetition_penalty: float = 1.0,
    no_repeat_ngram_size: int = 0,
    penalty_alpha: float | None = None,
) -> list[str]:
    """Everything wrong with a set of decoding knobs, one sentence per problem that says what to do (empty: fine).
    :class:`DecodingConfig` raises with all of them; the prompt explorer shows them next to its controls.

    >>> decoding_problems(do_sample=True, temperature=0, top_p=1.5)
    ['temperature must be greater than 0 (got 0); for deterministic output switch sampling off (greedy).', \
'top-p must be in (0, 1] (got 1.5); 1 switches it off.']
    >>> decoding_problems(top_p=0.9)   # a sampling filter without sampling
    ['temperature, top-k, top-p and typical-p only act when sampling; set do_sample=True (or penalty_alpha for \
contrastive search).']
    """
    out = []
    if not _is_int(num_beams) or num_beams < 1:
        out.append(f"num_beams must be a whole number >= 1 (got {num_beams!r}); 1 switches beam search off.")
    if not _is_number(temperature) or temperature <= 0:
        out.append(
            f"temperature must be greater than 0 (got {temperature!r}); for deterministic output switch sampling "
            "off (greedy)."
        )
    if not _is_int(top_k) or top_k < 0:
        out.append(f"top-k must be a whole number >= 0 (got {top_k!r}); 0 switches it off.")
    for label, value in (("top-p", top_p), ("typical-p", typical_p)):
        if not _is_number(value) or not 0 < value <= 1:
            out.append(f"{label} must be in (0, 1] (got {value!r}); 1 switches it off.")
    if not _is_number(repetition_penalty) or repetition_penalty <= 0:
        out.append(f"repetition penalty must be greater than 0 (got {repetition_penalty!r}); 1 switches it off.")
    if not _is_int(no_repeat_ngram_size) or no_repeat_ngram_size < 0:
        out.append(f"no_repeat_ngram_size must be a whole number >= 0 (got {no_repeat_ngram_size!r}); 0 switches it "
                   "off.")
    if out:
        return out  # the combinations below assume numbers in range
    if do_sample and num_beams > 1:
        out.append("beam sampling is not supported; use do_sample=True or num_beams > 1.")
    if penalty_alpha is not None:
        if do_sample or num_beams > 1:
            out.append("contrastive search (penalty_alpha) is deterministic; set do_sample=False and num_beams=1.")
        if not _is_number(penalty_alpha) or not 0 <= penalty_alpha <= 1 or top_k < 2:
            out.append(
                "contrastive search needs penalty_alpha in [0, 1] and top_k >= 2 candidates (Su et al. 2022 use "
                f"0.6 and 5), got {penalty_alpha!r} and {top_k!r}."
            )
    elif not do_sample and (temperature != 1 or top_k or top_p < 1 or typical_p < 1):
        out.append(
            "temperature, top-k, top-p and typical-p only act when sampling; set do_sample=True (or penalty_alpha "
            "for contrastive search)."
        )
    return out


@dataclass(frozen=True)
class DecodingConfig:
    """One decoding strategy. Leave a knob at its default to switch it off."""

    name: str  # the value of the DataFrame's ``config`` column
    do_sample: bool = False  # False: greedy, beam or contrastive search; True: sampling with the filters below
    num_beams: int = 1  # > 1: beam search (deterministic)
    temperature: float = 1.0  # sampling: divide the logits by this
    top_k: int = 0  # sampling: keep the k most likely tokens (0: off); contrastive search: number of candidates
    top_p: float = 1.0  # sampling: nucleus, the smallest set with this much probability (Holtzman et al. 2020)
    typical_p: float = 1.0  # sampling: locally typical set with this much probability (Meister et al. 2023)
    repetition_penalty: float = 1.0  # divide seen tokens' positive logits by this (Keskar et al. 2019); 1: off
    no_repeat_ngram_size: int = 0  # never repeat an n-gram of this size; 0: off
    penalty_alpha: float | None = None  # contrastive search (Su et al. 2022) with top_k candidates when set

    def __post_init__(self):
        if not self.name or not isinstance(self.name, str):
            raise ValueError("a DecodingConfig needs a non-empty name (it labels the rows of the DataFrame)")
        problems = decoding_problems(**{k: getattr(self, k) for k in _KNOBS})
        if problems:
            raise ValueError(f"{self.name}: " + " ".join(problems))

    @property
    def method(self) -> Literal["greedy", "beam", "sample", "contrastive"]:
        if self.penalty_alpha is not None:
            return "contrastive"
        if self.do_sample:
            return "sample"
        return "beam" if self.num_beams > 1 else "greedy"

    @property
    def stochastic(self) -> bool:
        return self.do_sample

    def generate_kwargs(self) -> dict:
        """Keyword arguments for ``model.generate`` (sampling itself is done by genlab's seeded processors)."""
        kwargs = {"do_sample": False, "num_beams": self.num_beams}
        if self.repetition_penalty != 1:
            kwargs["repetition_penalty"] = self.repetition_penalty
        if self.no_repeat_ngram_size:
            kwargs["no_repeat_ngram_size"] = self.no_repeat_ngram_size
        if self.method == "contrastive":
            kwargs.update(penalty_alpha=self.penalty_alpha, top_k=self.top_k, custom_generate=contrastive_search)
        return kwargs


PRESETS: dict[str, DecodingConfig] = {
    c.name: c
    for c in (
        DecodingConfig("greedy"),
        DecodingConfig("beam4", num_beams=4),
        DecodingConfig("sample", do_sample=True),  # pure (ancestral) sampling
        DecodingConfig("top_k40", do_sample=True, top_k=40),  # Holtzman et al. 2020, Table 1
        DecodingConfig("nucleus0.95", do_sample=True, top_p=0.95),  # Holtzman et al. 2020, Table 1
        DecodingConfig("typical0.95", do_sample=True, typical_p=0.95),  # Meister et al. 2023; Su & Xu 2022
        DecodingConfig("contrastive", penalty_alpha=0.6, top_k=5),  # Su et al. 2022 defaults
    )
}


def preset(name: str) -> DecodingConfig:
    """A named decoding configuration from :data:`PRESETS`.

    >>> preset("nucleus0.95").top_p
    0.95
    >>> preset("nucleus")
    Traceback (most recent call last):
    ...
    ValueError: no decoding preset 'nucleus'; did you mean 'nucleus0.95'? Known: beam4, contrastive, greedy, ...
    """
    if name in PRESETS:
        return PRESETS[name]
    near = difflib.get_close_matches(name, list(PRESETS), n=1, cutoff=0.4)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    raise ValueError(
        f"no decoding preset {name!r}{hint} Known: {', '.join(sorted(PRESETS))}. "
        "Or pass a DecodingConfig(name=..., ...)."
    )


def _as_configs(configs) -> list[DecodingConfig]:
    items = [configs] if isinstance(configs, (str, DecodingConfig)) else list(configs)
    if not items:
        raise ValueError("configs is empty; pass a preset name such as 'greedy' or a DecodingConfig")
    out = [preset(c) if isinstance(c, str) else c for c in items]
    for c in out:
        if not isinstance(c, DecodingConfig):
            raise ValueError(f"configs must be preset names or DecodingConfig objects, got {type(c).__name__}")
    names = [c.name for c in out]
    if len(set(names)) != len(names):
        raise ValueError(f"config names must be unique (they label the rows), got {names}")
    return out


def _shard_ids(n: int, shard) -> list[int]:
    """The prompt ids this process handles: contiguous blocks, as accelerate's ``split_between_processes``."""
    if shard is None:
        return list(range(n))
    if shard == "auto":
        shard = rank_and_world_size()
    rank, world = shard
    if not (isinstance(rank, int) and isinstance(world, int) and 0 <= rank < world):
        raise ValueError(f"shard must be (rank, world_size) with 0 <= rank < world_size, or 'auto'; got {shard!r}")
    return [int(i) for i in np.array_split(np.arange(n), world)[rank]]


def row_seed(seed: int, prompt_id: int, sample_id: int) -> int:
    """The seed of one row's sampling noise: depends on nothing else (not the batch, not the shard).

    >>> row_seed(0, 3, 1) == row_seed(0, 3, 1) != row_seed(0, 3, 2)
    True
    """
    return int(np.random.SeedSequence([seed, prompt_id, sample_id]).generate_state(1)[0])


class _GumbelNoise:
    """Logits processor adding Gumbel(0, 1) noise from one generator per row, so that the greedy argmax that
    follows is a sample from softmax(scores) (the Gumbel-max trick) reproducible row by row."""

    def __init__(self, seeds: Sequence[int]):
        self.generators = [torch.Generator().manual_seed(s) for s in seeds]

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        u = torch.stack([torch.rand(scores.shape[-1], generator=g, dtype=torch.float64) for g in self.generators])
        gumbel = -torch.log(-torch.log(u))  # (B, V); u = 0 gives -inf: that token is never drawn
        return scores + gumbel.to(device=scores.device, dtype=scores.dtype)


def _processors(cfg: DecodingConfig, seeds: Sequence[int]):
    """Sampling filters in transformers' order (temperature, top-k, top-p, typical), then the seeded noise."""
    from transformers import LogitsProcessorList
    from transformers.generation.logits_process import (
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
        TypicalLogitsWarper,
    )

    procs = LogitsProcessorList()
    if not cfg.do_sample:
        return procs
    if cfg.temperature != 1:
        procs.append(TemperatureLogitsWarper(cfg.temperature))
    if cfg.top_k:
        procs.append(TopKLogitsWarper(cfg.top_k))
    if cfg.top_p < 1:
        procs.append(TopPLogitsWarper(cfg.top_p))
    if cfg.typical_p < 1:
        procs.append(TypicalLogitsWarper(cfg.typical_p))
    procs.append(_GumbelNoise(seeds))
    return procs


#: transformers log lines that ``generate`` writes about genlab's own, correct calls, each dropped while
#: ``generate_ids`` runs (logger name, start of the message, why it does not apply):
_HARMLESS_GENERATE_LOGS = (
    # contrastive search is genlab's custom_generate, which reads top_k as its number of candidates; transformers'
    # GenerationConfig check only knows that top_k acts when sampling, so it calls the flag ignored, which it is not
    ("transformers.generation.configuration_utils", "The following generation flags are not valid"),
    # generate() drops an all-ones attention mask (no padding) for speed, then feeds finished rows pad_token_id
    # while the others go on; the model sees a pad id without a mask and asks for one. The mask genlab passes is
    # complete, and the finished rows' outputs are discarded.
    ("transformers.modeling_utils", "We strongly recommend passing in an `attention_mask`"),
)


class _DropMessages(logging.Filter):
    def __init__(self, prefix: str):
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefix)


@contextlib.contextmanager
def _quiet_generate_logs():
    """Drop the ``_HARMLESS_GENERATE_LOGS`` lines (and only those) while the block runs."""
    added = [(logging.getLogger(name), _DropMessages(prefix)) for name, prefix in _HARMLESS_GENERATE_LOGS]
    for logger, f in added:
        logger.addFilter(f)
    try:
        yield
    finally:
        for logger, f in added:
            logger.removeFilter(f)


def generate_ids(model, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, **kwargs) -> torch.Tensor:
    """``model.generate(input_ids=..., attention_mask=..., **kwargs)``, new tokens only (B', T_new), for every kind
    of model :func:`genlab.finetune` makes: plain, LoRA, IA3, prompt- and prefix-tuned (see :func:`virtual_prefix`).

    ``input_ids`` are left-padded; for prompt learning, ``num_beams`` / ``num_return_sequences`` must be given as
    keywords (the prefix cache is built with one row per beam).

    >>> import torch
    >>> from transformers import GPT2Config, GPT2LMHeadModel
    >>> _ = torch.manual_seed(0)
    >>> model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=10, n_positions=32)).eval()
    >>> generate_ids(model, torch.tensor([[1, 2, 3]]), max_new_tokens=4, do_sample=False, pad_token_id=0).shape
    torch.Size([1, 4])
    """
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    prefix = virtual_prefix(model)
    if prefix is None:
        with _quiet_generate_logs():
            out = model.generate(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        return out[:, input_ids.shape[1] :]
    if kwargs.get("generation_config") is not None:
        raise ValueError("pass num_beams etc. as keywords, not a generation_config: the prefix cache needs them")
    if kwargs.get("use_cache") is False:
        raise ValueError("a prompt- or prefix-tuned model generates with use_cache=True: its virtual tokens live there")
    rows = input_ids.shape[0] * max(kwargs.get("num_beams") or 1, kwargs.get("num_return_sequences") or 1)
    kwargs[prefix.cache_key] = prefix.cache(rows)
    with _quiet_generate_logs():
        out = prefix.base.generate(input_ids=input_ids, attention_mask=prefix.extend_mask(attention_mask), **kwargs)
    return out[:, input_ids.shape[1] :]


def _left_pad(seqs: list[list[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(map(len, seqs))
    ids = torch.tensor([[pad_id] * (width - len(s)) + s for s in seqs], device=device)
    mask = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in seqs], device=device)
    return ids, mask


def generate(
    bundle,
    prompts: Sequence[str],
    configs: str | DecodingConfig | Sequence[str | DecodingConfig] = "greedy",
    *,
    n_samples: int = 1,
    max_new_tokens: int = 64,
    batch_size: int = 32,
    seed: int = 0,
    prompt_seeds: Sequence[int] | None = None,
    add_bos: bool | None = None,
    shard: tuple[int, int] | Literal["auto"] | None = None,
    distributed: bool = False,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Continue every prompt with every decoding config, ``n_samples`` times; one row per continuation.

    Args:
        bundle: a :class:`genlab.models.Bundle` (causal LM; a peft-wrapped model of any kind works too).
        prompts: the prompt texts; ``prompt_id`` is the position in this list.
        configs: preset names (see :data:`PRESETS`) and/or :class:`DecodingConfig` objects.
        n_samples: continuations per prompt and config.
        max_new_tokens: generation stops at EOS or after this many new tokens.
        batch_size: rows per ``model.generate`` call; prompts are grouped by length to limit padding.
        seed: the sampling seed (see the module docstring for what is reproducible).
        prompt_seeds: one non-negative integer per prompt that takes the place of its position in the seed of its
            rows' noise: (seed, prompt_seeds[i], sample_id). Give each prompt a number derived from the prompt
            itself (an id from the data file, a hash of its text; ``genlab.suites`` does) and its sampled texts no
            longer depend on where it sits in the list: reversing or filtering the list leaves them unchanged.
            ``None`` (the default): the position, as before.
        add_bos: prefix each prompt with the tokenizer's BOS token, as genlab's models were trained;
            ``None``: yes when the tokenizer has one.
        shard: ``(rank, world_size)`` to handle only this process's contiguous block of prompts, or ``"auto"`` to
            take both from the current ``accelerate launch`` / ``torchrun`` run
            (:func:`genlab.core.distributed.rank_and_world_size`); concatenating the shards' frames gives the
            unsharded frame. ``None``: all prompts. To get the full frame on every process, use ``distributed``.
        distributed: split the work over the processes of the current ``accelerate launch`` / ``torchrun`` run
            and return the full frame on every process, the same frame one process would return (with the same
            ``batch_size``). The unit of work is the batch: every process forms the batches a single process would
            (all prompts, sorted by length), generates a contiguous block of them (see
            :func:`genlab.core.distributed.map_sharded`) and gathers the others' new tokens; so each row is computed
            with the same padding and batch as in one process, and its text is identical, not just equal up to
            floating point. With fewer batches than processes, some processes wait: lower ``batch_size``. Every
            process must pass the same arguments. Without a launch it changes nothing. Not with ``shard``.
        progress: a progress bar over batches (in a distributed run, the first process's batches, on that process
            only); ``None``: on unless CI or TQDM_DISABLE is set.

    The model generates in eval mode (no dropout); its mode is restored afterwards.

    >>> from genlab.models.tiny import tiny_bundle
    >>> bundle = tiny_bundle(padding_side="left")
    >>> full = generate(bundle, ["the cat", "a", "the mat"], ["greedy", "sample"], n_samples=2, max_new_tokens=4)
    >>> full.equals(generate(bundle, ["the cat", "a", "the mat"], ["greedy", "sample"], n_samples=2,
    ...                      max_new_tokens=4, distributed=True))   # one process: the same frame
    True
    >>> blocks = [generate(bundle, ["the cat", "a", "the mat"], ["greedy", "sample"], n_samples=2,
    ...                    max_new_tokens=4, shard=(rank, 2)) for rank in (0, 1)]
    >>> [sorted(set(b["prompt_id"])) for b in blocks]      # shard=: each process keeps its own block of prompts
    [[0, 1], [2]]
    """
    if hasattr(bundle, "transcribe"):  # a SpeechBundle: audio in, text out
        raise TypeError(
            f"generate continues text prompts with a language model; {getattr(bundle, 'name', 'this')} is a speech "
            "model. Use bundle.transcribe(audio) to turn speech into text, or load a causal language model."
        )
    model, tok = bundle.model, bundle.tokenizer
    if isinstance(prompts, str) or not all(isinstance(p, str) for p in prompts):
        raise ValueError("prompts must be a list of strings (wrap a single prompt in a list)")
    cfgs = _as_configs(configs)
    for name, value in (("n_samples", n_samples), ("max_new_tokens", max_new_tokens), ("batch_size", batch_size)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    add_bos = tok.bos_token_id is not None if add_bos is None else add_bos
    if add_bos and tok.bos_token_id is None:
        raise ValueError("add_bos=True but the tokenizer has no BOS token; pass add_bos=False")
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    if pad_id is None:
        raise ValueError("the tokenizer has neither a pad nor an EOS token; set tokenizer.pad_token")
    if not isinstance(distributed, bool):
        raise ValueError(f"distributed must be True or False, got {distributed!r}")
    if prompt_seeds is not None:
        prompt_seeds = list(prompt_seeds)
        if len(prompt_seeds) != len(prompts) or not all(_is_int(x) and x >= 0 for x in prompt_seeds):
            raise ValueError(
                f"prompt_seeds must hold one non-negative integer per prompt ({len(prompts)}), got "
                f"{len(prompt_seeds)} values; or pass None to seed each prompt by its position"
            )
    seed_of = list(range(len(prompts))) if prompt_seeds is None else prompt_seeds
    if distributed and shard is not None:
        raise ValueError(
            f"pass shard={shard!r} (each process returns its own block of prompts) or distributed=True (every "
            "process returns the full frame), not both"
        )

    ids_of = {}
    for pid in _shard_ids(len(prompts), shard):
        ids = ([tok.bos_token_id] if add_bos else []) + tok(prompts[pid], add_special_tokens=False)["input_ids"]
        if not ids:
            raise ValueError(f"prompt {pid} is empty and add_bos is off: the model has nothing to continue from")
        ids_of[pid] = ids
    prefix = virtual_prefix(model)
    context = context_length(model if prefix is None else prefix.base)
    n_virtual = 0 if prefix is None else prefix.length
    longest = max(map(len, ids_of.values()), default=0)
    if context and n_virtual + longest + max_new_tokens > context:
        virtual = f" after the adapter's {n_virtual} virtual tokens" if n_virtual else ""
        raise ValueError(
            f"the longest prompt has {longest} tokens; with max_new_tokens={max_new_tokens} it would "
            f"exceed the model's context of {context}{virtual}. Shorten the prompts or lower max_new_tokens."
        )

    # Longest prompts first, so each batch holds prompts of similar length (little padding).
    order = sorted(ids_of, key=lambda p: (-len(ids_of[p]), p))
    jobs = []  # (config, rows) with rows = [(prompt_id, sample_id)]
    for cfg in cfgs:
        rows = [(p, s) for p in order for s in range(n_samples if cfg.stochastic else 1)]
        jobs += [(cfg, rows[i : i + batch_size]) for i in range(0, len(rows), batch_size)]

    eos = tok.eos_token_id
    show_progress = progress_enabled(progress) and (not distributed or rank_and_world_size()[0] == 0)

    def run(block: list) -> list[list[tuple[list[int], bool]]]:  # per job, the (tokens, finished) of each row
        done = []
        bar = None
        if show_progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(block), desc="generate", unit="batch")
        for cfg, rows in block:
            ids, mask = _left_pad([ids_of[p] for p, _ in rows], pad_id, bundle.device)
            new_ids = generate_ids(
                model,
                ids,
                mask,
                max_new_tokens=max_new_tokens,
                min_new_tokens=0,
                eos_token_id=eos,
                pad_token_id=pad_id,
                logits_processor=_processors(cfg, [row_seed(seed, seed_of[p], s) for p, s in rows]),
                **cfg.generate_kwargs(),
            )
            outs = []
            for new in new_ids.tolist():
                finished = eos is not None and eos in new
                outs.append((new[: new.index(eos)] if finished else new, finished))
            done.append(outs)
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        return done

    with eval_mode(model):  # dropout off while generating; the mode is restored below
        done = map_sharded(run, jobs) if distributed else run(jobs)
    results = {  # (config name, prompt_id, sample_id) -> (tokens, finished)
        (cfg.name, p, s): out
        for (cfg, rows), outs in zip(jobs, done, strict=True)
        for (p, s), out in zip(rows, outs, strict=True)
    }

    records = []
    for cfg in cfgs:
        for pid in sorted(ids_of):
            for sid in range(n_samples):
                tokens, finished = results[(cfg.name, pid, sid if cfg.stochastic else 0)]
                records.append(
                    (
                        pid,
                        prompts[pid],
                        cfg.name,
                        sid,
                        tok.decode(tokens, skip_special_tokens=True),
                        tokens,
                        len(tokens),
                        finished,
                        seed,
                    )
                )
    df = pd.DataFrame.from_records(records, columns=COLUMNS)
    df.attrs.update(
        model=getattr(bundle, "name", "model"),
        max_new_tokens=max_new_tokens,
        add_bos=add_bos,
        configs={c.name: {k: v for k, v in dataclasses.asdict(c).items() if k != "name"} for c in cfgs},
    )
    return df


def greedy(
    bundle,
    prompts: Sequence[str],
    *,
    max_new_tokens: int,
    batch_size: int = 32,
    add_bos: bool | None = None,
) -> list[str]:
    """The greedy continuation of each prompt, new text only, without special tokens: genlab's one batched greedy
    decoder, which task scores, cloze probes and studies call. It is :func:`generate` with the ``"greedy"`` preset
    (BOS as an id, length-sorted left-padded batches, every kind of peft model, eval mode), without the frame.

    >>> from genlab.models.tiny import tiny_bundle
    >>> texts = greedy(tiny_bundle(), ["the cat", "a dog"], max_new_tokens=3)
    >>> len(texts), all(isinstance(t, str) for t in texts)
    (2, True)
    """
    frame = generate(
        bundle, list(prompts), "greedy", max_new_tokens=max_new_tokens, batch_size=batch_size, add_bos=add_bos,
        progress=False,
    )
    return frame["text"].tolist()
