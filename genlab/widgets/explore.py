"""The prompt explorer's plain functions: generate side by side, look inside one output, badge it, keep a history.

The widget (:mod:`genlab.widgets.explorer`) is a thin view over these; tests and notebooks call them directly.

- :func:`run_prompt`: one prompt, one or more models x one or more decoding settings, ``n_samples`` each, seeded;
  one row per output. It is :func:`genlab.generate` per (model, setting), with progress and cancellation.
- :func:`token_view`: for each generated token, its probability under the model, the entropy of the model's
  distribution at that step and the top-k alternatives; :func:`token_figure` plots it.
- :func:`badges`: repetition, perplexity under the model, an offensive-language probability and pattern matches
  for personal data, for one output.
- :class:`History`: every run, exportable to CSV and JSON.
- :func:`check_inputs` and :func:`decoding_settings`: validation that returns readable messages.

Cancellation. :func:`run_prompt` takes a ``cancel`` event (``threading.Event``). While it generates, a forward
pre-hook on the model checks the event before every forward pass (one per new token) and counts the passes for
``on_progress``; a set event raises inside ``model.generate``, which unwinds (the model's mode is restored), and
:func:`run_prompt` returns the rows finished so far with ``frame.attrs["cancelled"] = True``. The hook is removed
when the call returns. ``genlab.generate`` itself is unchanged.

>>> from genlab.models.tiny import tiny_bundle
>>> bundle = tiny_bundle()
>>> frame = run_prompt({"tiny": bundle}, "the cat", ["greedy", "nucleus0.95"], n_samples=2, max_new_tokens=5)
>>> frame[["model", "setting", "sample_id"]].values.tolist()    # greedy is deterministic: one row
[['tiny', 'greedy', 0], ['tiny', 'nucleus0.95', 0], ['tiny', 'nucleus0.95', 1]]
>>> view = token_view(bundle, "the cat", frame.loc[0, "tokens"])
>>> list(view.columns)[:6]
['step', 'token_id', 'token', 'prob', 'rank', 'entropy_bits']
>>> sorted(badges(bundle, frame.loc[0, "text"], prompt="the cat"))[:4]
['n_tokens', 'offensive', 'offensive_flag', 'perplexity']
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import torch

from genlab.generation.decoder import DecodingConfig, decoding_problems, generate, preset
from genlab.metrics.offensive import OFFENSIVE_THRESHOLD, offensive_probability
from genlab.metrics.pii_patterns import find_pii
from genlab.metrics.repetition import rep_n, seq_rep_n
from genlab.models.prefix import context_length, virtual_prefix
from genlab.models.scoring import scored_logits

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = [
    "MAX_SAMPLES",
    "History",
    "badges",
    "check_inputs",
    "decoding_settings",
    "describe_settings",
    "prompt_ids",
    "run_prompt",
    "settings_problems",
    "token_figure",
    "token_label",
    "token_view",
    "usable_context",
]

MAX_SAMPLES = 16  # samples per (model, setting) in one run: enough to compare, few enough to read
COLUMNS = [
    "model", "setting", "sample_id", "prompt", "text", "tokens", "n_new_tokens", "finished", "seed",
    "max_new_tokens", "settings",
]  # fmt: skip
TOKEN_COLUMNS = ["step", "token_id", "token", "prob", "rank", "entropy_bits", "top_tokens", "top_probs"]


class _Cancelled(Exception):
    """Raised inside ``model.generate`` by the watch hook when the cancel event is set."""


# --- settings and validation -------------------------------------------------------------------------------------


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def settings_problems(
    *,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    typical_p: float = 1.0,
    repetition_penalty: float = 1.0,
) -> list[str]:
    """What is wrong with these sampling knobs, as sentences a user can act on (empty: nothing): the one checker,
    :func:`genlab.generation.decoder.decoding_problems`, with sampling on.

    >>> settings_problems(temperature=0, top_p=1.5)
    ['temperature must be greater than 0 (got 0); for deterministic output switch sampling off (greedy).', \
'top-p must be in (0, 1] (got 1.5); 1 switches it off.']
    """
    return decoding_problems(do_sample=True, temperature=temperature, top_k=top_k, top_p=top_p, typical_p=typical_p,
                             repetition_penalty=repetition_penalty)


def describe_settings(
    *,
    sample: bool,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    typical_p: float = 1.0,
    repetition_penalty: float = 1.0,
) -> str:
    """A short name for a decoding setting that lists only the knobs that are on.

    >>> describe_settings(sample=True, temperature=0.7, top_p=0.9)
    'sample T=0.7 top-p=0.9'
    >>> describe_settings(sample=False, repetition_penalty=1.3)
    'greedy rep=1.3'
    """
    parts = ["sample" if sample else "greedy"]
    if sample:
        parts += [f"T={temperature:g}"] if temperature != 1 else []
        parts += [f"top-k={top_k}"] if top_k else []
        parts += [f"top-p={top_p:g}"] if top_p < 1 else []
        parts += [f"typical-p={typical_p:g}"] if typical_p < 1 else []
    parts += [f"rep={repetition_penalty:g}"] if repetition_penalty != 1 else []
    return " ".join(parts)


def decoding_settings(
    name: str | None = None,
    *,
    sample: bool = True,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    typical_p: float = 1.0,
    repetition_penalty: float = 1.0,
) -> DecodingConfig:
    """The :class:`~genlab.generation.decoder.DecodingConfig` of the explorer's controls.

    Every knob in use is checked (:func:`settings_problems`; a ValueError joins the messages). With
    ``sample=False`` (greedy) the sampling knobs are ignored, unchecked, as the widget greys them out; the
    repetition penalty still applies. ``name``: default :func:`describe_settings`.

    >>> decoding_settings(temperature=0.7, top_p=0.9)
    DecodingConfig(name='sample T=0.7 top-p=0.9', do_sample=True, num_beams=1, temperature=0.7, top_k=0, \
top_p=0.9, typical_p=1.0, repetition_penalty=1.0, no_repeat_ngram_size=0, penalty_alpha=None)
    >>> decoding_settings(sample=False, temperature=0).name     # greedy: the sampling knobs are not used
    'greedy'
    >>> decoding_settings(top_p=0)
    Traceback (most recent call last):
    ...
    ValueError: top-p must be in (0, 1] (got 0); 1 switches it off.
    """
    if sample:
        problems = settings_problems(temperature=temperature, top_k=top_k, top_p=top_p, typical_p=typical_p,
                                     repetition_penalty=repetition_penalty)
    else:  # greedy: the sampling knobs are greyed out, so a value left in them must not block the run
        problems = settings_problems(repetition_penalty=repetition_penalty)
    if problems:
        raise ValueError(" ".join(problems))
    knobs = {"temperature": float(temperature), "top_k": int(top_k), "top_p": float(top_p),
             "typical_p": float(typical_p)} if sample else {}
    label = describe_settings(sample=sample, repetition_penalty=repetition_penalty, **knobs)
    return DecodingConfig(
        name or label, do_sample=bool(sample), repetition_penalty=float(repetition_penalty), **knobs
    )


def _as_settings(settings) -> list[DecodingConfig]:
    items = [settings] if isinstance(settings, (str, DecodingConfig)) else list(settings)
    return [preset(s) if isinstance(s, str) else s for s in items]


def _as_bundles(bundles) -> dict:
    if hasattr(bundles, "model") and hasattr(bundles, "tokenizer"):
        return {bundles.name: bundles}
    if not isinstance(bundles, Mapping):
        raise ValueError("bundles must be a Bundle or a dict {name: Bundle}")
    return dict(bundles)


def prompt_ids(bundle, prompt: str) -> list[int]:
    """The ids :func:`genlab.generate` feeds the model for ``prompt``: BOS (when the tokenizer has one), then the
    prompt's tokens.

    >>> from genlab.models.tiny import tiny_bundle
    >>> prompt_ids(tiny_bundle(), "")     # BOS only
    [0]
    """
    tok = bundle.tokenizer
    head = [tok.bos_token_id] if tok.bos_token_id is not None else []
    return head + list(tok(prompt, add_special_tokens=False)["input_ids"])


def usable_context(bundle) -> int | None:
    """Positions a prompt and its continuation may fill: the model's context, less any virtual tokens of a
    prompt- or prefix-tuned adapter; ``None`` when the model names no limit.

    >>> from genlab.models.tiny import tiny_bundle
    >>> usable_context(tiny_bundle())
    64
    """
    prefix = virtual_prefix(bundle.model)
    limit = context_length(bundle.model if prefix is None else prefix.base)
    return None if limit is None else limit - (0 if prefix is None else prefix.length)


def check_inputs(
    bundles,
    prompt: str,
    settings=("greedy",),
    *,
    max_new_tokens: int = 40,
    n_samples: int = 1,
    seed: int = 0,
) -> list[str]:
    """Everything wrong with a run's inputs, as sentences a user can act on (empty list: ready to run).

    Checks: a non-empty prompt; ``max_new_tokens`` >= 1 and, with the prompt, within each model's context;
    ``n_samples`` in 1..:data:`MAX_SAMPLES`; a seed >= 0; settings that are preset names or DecodingConfigs with
    distinct names.

    >>> from genlab.models.tiny import tiny_bundle
    >>> tiny = {"tiny": tiny_bundle()}
    >>> check_inputs(tiny, "   ")
    ['The prompt is empty: type some text for the model to continue.']
    >>> check_inputs(tiny, "the cat", max_new_tokens=100)
    ["The prompt has 3 tokens (with BOS); with max new tokens = 100 that is 103, more than tiny's context of 64 \
tokens. Lower max new tokens to at most 61 or shorten the prompt."]
    >>> check_inputs(tiny, "the cat", max_new_tokens=10, n_samples=1)
    []
    """
    problems = []
    if not isinstance(prompt, str) or not prompt.strip():
        problems.append("The prompt is empty: type some text for the model to continue.")
    if not _is_int(max_new_tokens) or max_new_tokens < 1:
        problems.append(f"max new tokens must be a whole number >= 1 (got {max_new_tokens!r}).")
    if not _is_int(n_samples) or not 1 <= n_samples <= MAX_SAMPLES:
        problems.append(f"the number of samples must be a whole number from 1 to {MAX_SAMPLES} (got {n_samples!r}).")
    if not _is_int(seed) or seed < 0:
        problems.append(f"the seed must be a whole number >= 0 (got {seed!r}).")
    try:
        configs = _as_settings(settings)
        if not configs:
            problems.append("Choose at least one decoding setting.")
        elif not all(isinstance(c, DecodingConfig) for c in configs):
            problems.append("settings must be preset names (e.g. 'greedy') or DecodingConfig objects.")
        elif len({c.name for c in configs}) != len(configs):
            problems.append("Two settings have the same name; give each a distinct name.")
    except ValueError as err:  # an unknown preset name: the message suggests the nearest one
        problems.append(str(err))
    try:
        models = _as_bundles(bundles)
    except ValueError as err:
        return problems + [str(err)]
    if not models:
        problems.append("No model to run: pass at least one {name: Bundle}.")
    if isinstance(prompt, str) and prompt.strip() and _is_int(max_new_tokens) and max_new_tokens >= 1:
        for name, bundle in models.items():
            n, limit = len(prompt_ids(bundle, prompt)), usable_context(bundle)
            if limit is None or n + max_new_tokens <= limit:
                continue
            bos = " (with BOS)" if bundle.tokenizer.bos_token_id is not None else ""
            if n >= limit:
                problems.append(
                    f"The prompt has {n} tokens{bos}, but {name}'s context holds {limit} tokens in all, the "
                    "prompt and what the model writes: shorten the prompt."
                )
            else:
                problems.append(
                    f"The prompt has {n} tokens{bos}; with max new tokens = {max_new_tokens} that is "
                    f"{n + max_new_tokens}, more than {name}'s context of {limit} tokens. Lower max new tokens "
                    f"to at most {limit - n} or shorten the prompt."
                )
    return problems


# --- generation with progress and cancellation -------------------------------------------------------------------


def _innermost(model):
    """The transformers model whose forward runs once per generated token (under any peft wrapper)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


@contextlib.contextmanager
def _watch(model, cancel: threading.Event | None, on_step: Callable[[int], None] | None) -> Iterator[None]:
    """Check ``cancel`` and count forward passes of ``model`` while the block runs."""
    steps = 0

    def hook(module, args):
        nonlocal steps
        if cancel is not None and cancel.is_set():
            raise _Cancelled
        steps += 1
        if on_step is not None:
            on_step(steps)

    handle = _innermost(model).register_forward_pre_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def _settings_json(cfg: DecodingConfig) -> str:
    knobs = {
        k: v
        for k, v in dataclasses.asdict(cfg).items()
        if k != "name" and v != DecodingConfig.__dataclass_fields__[k].default
    }
    return json.dumps(knobs, sort_keys=True)


def run_prompt(
    bundles,
    prompt: str,
    settings=("greedy",),
    *,
    n_samples: int = 1,
    max_new_tokens: int = 40,
    seed: int = 0,
    panels: Sequence[tuple[str, str]] | None = None,
    cancel: threading.Event | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> pd.DataFrame:
    """Continue ``prompt`` with each model and decoding setting, ``n_samples`` times; one row per output.

    Args:
        bundles: a :class:`genlab.models.Bundle`, or ``{name: Bundle}`` to compare models.
        prompt: the text to continue.
        settings: preset names (:data:`genlab.generation.decoder.PRESETS`) and/or DecodingConfigs (e.g. from
            :func:`decoding_settings`); their names must differ.
        n_samples: outputs per (model, setting), 1..:data:`MAX_SAMPLES`. A deterministic setting (greedy, beam)
            gives one row however many are asked for.
        max_new_tokens: generation stops at EOS or after this many tokens.
        seed: sampling seed; a row's text depends only on (model, setting, seed, sample_id), as in
            :func:`genlab.generate`, so two settings share their random draws.
        panels: the (model name, setting name) pairs to run, in order; default every model with every setting.
        cancel: set it (from another thread) to stop before the model's next forward pass; the rows of the pairs
            finished so far are returned and ``frame.attrs["cancelled"]`` is True.
        on_progress: called with the fraction done (0..1), at most about 20 times a second and once at the end.

    Columns: ``model, setting, sample_id, prompt, text, tokens, n_new_tokens, finished, seed, max_new_tokens,
    settings`` (the setting's knobs that differ from the defaults, as JSON). ``attrs``: ``cancelled``,
    ``seconds``. Invalid inputs raise ValueError with every problem :func:`check_inputs` finds.

    >>> from genlab.models.tiny import tiny_bundle
    >>> a, b = tiny_bundle(seed=0), tiny_bundle(seed=1)
    >>> frame = run_prompt({"a": a, "b": b}, "the cat", "nucleus0.95", n_samples=2, max_new_tokens=4, seed=3)
    >>> frame.groupby("model").size().to_dict(), frame.attrs["cancelled"]
    ({'a': 2, 'b': 2}, False)
    >>> run_prompt({"a": a}, "", "greedy")
    Traceback (most recent call last):
    ...
    ValueError: The prompt is empty: type some text for the model to continue.
    """
    problems = check_inputs(bundles, prompt, settings, max_new_tokens=max_new_tokens, n_samples=n_samples, seed=seed)
    if problems:
        raise ValueError(" ".join(problems))
    models, configs = _as_bundles(bundles), {c.name: c for c in _as_settings(settings)}
    jobs = list(panels) if panels is not None else [(m, s) for m in models for s in configs]
    for m, s in jobs:
        if m not in models or s not in configs:
            raise ValueError(f"panel ({m!r}, {s!r}) names an unknown model or setting; models: {list(models)}, "
                             f"settings: {list(configs)}")

    start, last_report, frames, cancelled = time.perf_counter(), 0.0, [], False

    def report(fraction: float, force: bool = False) -> None:
        nonlocal last_report
        now = time.perf_counter()
        if on_progress is not None and (force or now - last_report >= 0.05):
            last_report = now
            on_progress(min(1.0, fraction))

    report(0.0, force=True)
    for i, (model_name, setting) in enumerate(jobs):
        bundle, cfg = models[model_name], configs[setting]
        # one forward pass per new token: the share of this (model, setting) pair done so far
        on_step = lambda steps, i=i: report((i + min(steps, max_new_tokens) / max_new_tokens) / len(jobs))  # noqa: E731
        try:
            if cancel is not None and cancel.is_set():
                raise _Cancelled
            with _watch(bundle.model, cancel, on_step):
                frame = generate(
                    bundle, [prompt], [cfg], n_samples=n_samples, max_new_tokens=max_new_tokens, seed=seed,
                    progress=False,
                )
        except _Cancelled:
            cancelled = True
            break
        if not cfg.stochastic:
            frame = frame[frame["sample_id"] == 0]
        frames.append(
            frame.assign(model=model_name, setting=setting, max_new_tokens=max_new_tokens,
                         settings=_settings_json(cfg))[COLUMNS]
        )
        report((i + 1) / len(jobs), force=True)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    out.attrs.update(cancelled=cancelled, seconds=time.perf_counter() - start)
    return out


# --- inside one output: per-token probabilities ------------------------------------------------------------------


def token_label(token: str) -> str:
    """A token as a readable label: whitespace made visible (space ␣, newline ↵, tab ⇥). Not HTML-escaped.

    >>> token_label(" cat"), token_label("\\n"), token_label("")
    ('␣cat', '↵', '∅')
    """
    if token == "":
        return "∅"
    return token.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥").replace("\r", "␍")


def _continuation(bundle, prompt: str, text_or_tokens) -> tuple[list[int], int]:
    """(prompt ids + continuation ids, index of the first continuation token)."""
    head = prompt_ids(bundle, prompt)
    if isinstance(text_or_tokens, str):
        new = list(bundle.tokenizer(text_or_tokens, add_special_tokens=False)["input_ids"])
    else:
        new = [int(t) for t in text_or_tokens]
    return head + new, len(head)


def token_view(bundle, prompt: str, text: str | Sequence[int], *, top_k: int = 5) -> pd.DataFrame:
    """One row per generated token: its probability under the model given the prompt and the tokens before it,
    its rank, the entropy of the model's distribution at that step, and the ``top_k`` most likely tokens.

    ``text``: the generated token ids (the ``tokens`` column of :func:`run_prompt`, exact) or the generated text
    (re-tokenized, which can split it differently from how it was generated). Probabilities are the model's own
    distribution (softmax of the logits, temperature 1), before any decoding filter: what sampling settings then
    do with it is not shown. Entropy is in bits: 1 bit is a fair coin between two tokens.

    Columns: ``step`` (0 = first new token), ``token_id``, ``token`` (decoded text of the token), ``prob``,
    ``rank`` (1 = the model's first choice), ``entropy_bits``, ``top_tokens``, ``top_probs`` (lists, most likely
    first).

    >>> import torch
    >>> from genlab.models.tiny import tiny_bundle
    >>> bundle = tiny_bundle()
    >>> _ = torch.nn.init.zeros_(bundle.model.lm_head.weight)     # a uniform model
    >>> view = token_view(bundle, "the cat", " sat on", top_k=2)
    >>> view["step"].tolist(), bool((view["rank"] == 1).all())
    ([0, 1], True)
    >>> round(float(view.loc[0, "entropy_bits"]), 3) == round(math.log2(bundle.model.config.vocab_size), 3)
    True
    """
    if not _is_int(top_k) or top_k < 1:
        raise ValueError(f"top_k must be a whole number >= 1, got {top_k!r}")
    ids, first = _continuation(bundle, prompt, text)
    if len(ids) == first:
        return pd.DataFrame(columns=TOKEN_COLUMNS)
    tok = bundle.tokenizer
    rows = {}
    with torch.inference_mode():
        for _, position, target, logits in scored_logits(bundle, [ids], score_from=[first]):
            logp = torch.log_softmax(logits.double(), dim=-1)  # (N, V)
            p = logp.exp()
            entropy = -(p * logp).nan_to_num().sum(-1) / math.log(2)  # (N,) bits
            chosen = logp.gather(1, target.to(logp.device)[:, None])[:, 0]  # (N,)
            rank = (logp > chosen[:, None]).sum(-1) + 1
            top_p, top_i = p.topk(min(top_k, p.shape[-1]), dim=-1)  # (N, k)
            for n, pos in enumerate(position.tolist()):
                rows[pos] = (
                    pos - first,
                    int(target[n]),
                    tok.decode([int(target[n])]),
                    float(chosen[n].exp()),
                    int(rank[n]),
                    float(entropy[n]),
                    [tok.decode([i]) for i in top_i[n].tolist()],
                    [float(x) for x in top_p[n].tolist()],
                )
    return pd.DataFrame([rows[k] for k in sorted(rows)], columns=TOKEN_COLUMNS)


def token_figure(view: pd.DataFrame, *, title: str = "Probability of each generated token") -> go.Figure:
    """A plotly figure of :func:`token_view`: bars for the chosen token's probability, a line for the entropy of
    the model's distribution (right axis, bits), the top alternatives on hover. Token text is HTML-escaped
    (plotly renders a subset of HTML in labels: ``<b>``, ``<a href>``, ...), quotes excepted.

    >>> from genlab.models.tiny import tiny_bundle
    >>> bundle = tiny_bundle()
    >>> fig = token_figure(token_view(bundle, "the cat", " sat <b>"))
    >>> fig.layout.yaxis.title.text, fig.layout.yaxis2.title.text
    ('probability of the chosen token', 'entropy (bits)')
    >>> any("<b>" in t for t in fig.layout.xaxis.ticktext)    # the token "<b>" is shown, not interpreted
    False
    """
    import html

    import plotly.graph_objects as go  # noqa: F811 (imported here: plotly takes a while to import)

    # plotly turns <, > and & entities back into characters but shows &quot; as it is: quotes stay (they are plain
    # text in plotly's SVG labels, never markup or attributes)
    escape = lambda text: html.escape(token_label(text), quote=False)  # noqa: E731
    steps = view["step"].tolist()
    labels = [escape(t) for t in view["token"]]
    hover = [
        f"step {s}: {escape(t)} p={p:.3f} (rank {r})<br>"
        + "<br>".join(f"{escape(a)}: {q:.3f}" for a, q in zip(alts, probs, strict=True))
        for s, t, p, r, alts, probs in zip(
            steps, view["token"], view["prob"], view["rank"], view["top_tokens"], view["top_probs"], strict=True
        )
    ]
    fig = go.Figure()
    fig.add_bar(
        x=steps, y=view["prob"].tolist(), name="p(chosen token)", hovertext=hover, hoverinfo="text",
        marker={"color": view["prob"].tolist(), "colorscale": "RdYlGn", "cmin": 0, "cmax": 1},
    )
    fig.add_scatter(
        x=steps, y=view["entropy_bits"].tolist(), name="entropy", mode="lines+markers", yaxis="y2",
        hoverinfo="skip", line={"color": "#444", "width": 1.5},
    )
    fig.update_layout(
        title=html.escape(title, quote=False),  # plain text: a prompt quoted in it stays text
        height=340,
        margin={"l": 60, "r": 60, "t": 70, "b": 90},
        xaxis={"title": "generated token", "tickmode": "array", "tickvals": steps, "ticktext": labels,
               "tickangle": -45},
        yaxis={"title": "probability of the chosen token", "range": [0, 1]},
        yaxis2={"title": "entropy (bits)", "overlaying": "y", "side": "right", "rangemode": "tozero",
                "showgrid": False},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1},
        bargap=0.15,
    )
    return fig


# --- badges ------------------------------------------------------------------------------------------------------


def badges(bundle, text: str, *, prompt: str = "", tokens: Sequence[int] | None = None) -> dict:
    """Quick signals about one output, for a badge row under it.

    - ``rep_2`` (%) and ``seq_rep_4`` (share): repeated word bigrams (Su et al. 2022) and 4-grams (Welleck et al.
      2019) within the text (:mod:`genlab.metrics.repetition`);
    - ``perplexity``: of the generated tokens under ``bundle``'s model, given the prompt (exp of their mean
      negative log-likelihood; nan for an empty output); ``n_tokens`` of them;
    - ``offensive``: probability from the offline classifier of :mod:`genlab.metrics.offensive`, and
      ``offensive_flag`` when it reaches 0.5;
    - ``pii``: pattern matches for personal data (:func:`genlab.metrics.pii_patterns.find_pii`, not a general
      detector) and ``pii_count``.

    ``tokens``: the generated ids (exact); default the text re-tokenized.

    >>> from genlab.models.tiny import tiny_bundle
    >>> b = badges(tiny_bundle(), " the mat the mat the mat ann@post.example", prompt="the cat")
    >>> b["rep_2"], b["pii_count"], b["pii"][0]["type"], b["offensive_flag"]    # 3 of 6 bigrams repeat
    (50.0, 1, 'email', False)
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, got {type(text).__name__}")
    view = token_view(bundle, prompt, text if tokens is None else tokens, top_k=1)
    nll = [-math.log(max(p, 1e-300)) for p in view["prob"]]
    probability = offensive_probability([text])[0]
    pii = find_pii(text)
    return {
        "rep_2": rep_n([text], 2),
        "seq_rep_4": seq_rep_n([text], 4)[0],
        "perplexity": math.exp(sum(nll) / len(nll)) if nll else float("nan"),
        "n_tokens": len(nll),
        "offensive": probability,
        "offensive_flag": probability >= OFFENSIVE_THRESHOLD,
        "pii": pii,
        "pii_count": len(pii),
    }


# --- history -----------------------------------------------------------------------------------------------------

BADGE_COLUMNS = ["perplexity", "rep_2", "seq_rep_4", "offensive", "pii_count"]
HISTORY_COLUMNS = ["run", "time", *[c for c in COLUMNS if c != "tokens"], *BADGE_COLUMNS]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class History:
    """Every output the explorer produced, one row each, exportable to CSV and JSON.

    >>> from genlab.models.tiny import tiny_bundle
    >>> history = History()
    >>> frame = run_prompt({"tiny": tiny_bundle()}, "the cat", "greedy", max_new_tokens=3)
    >>> history.add(frame), len(history)
    (1, 1)
    >>> history.frame.columns[:4].tolist()
    ['run', 'time', 'model', 'setting']
    >>> "the cat" in history.to_csv() and '"run":1' in history.to_json()
    True
    """

    def __init__(self) -> None:
        self._rows: list[dict] = []
        self._runs = 0
        self._lock = threading.Lock()  # the widget adds from its generation thread

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, frame: pd.DataFrame, badge_rows: Sequence[dict] | None = None) -> int:
        """Record one run (a :func:`run_prompt` frame) and the badges of its rows; returns the run number."""
        if badge_rows is not None and len(badge_rows) != len(frame):
            raise ValueError(f"{len(badge_rows)} badge rows for {len(frame)} outputs")
        when = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        with self._lock:
            self._runs += 1
            for i, row in enumerate(frame.to_dict("records")):
                b = badge_rows[i] if badge_rows is not None else {}
                record = {"run": self._runs, "time": when, **{c: row.get(c) for c in COLUMNS if c != "tokens"}}
                record.update({c: b.get(c) for c in BADGE_COLUMNS})
                self._rows.append(record)
            return self._runs

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()

    @property
    def frame(self) -> pd.DataFrame:
        """The history as a DataFrame (a copy), in the order the outputs were made."""
        with self._lock:
            return pd.DataFrame(list(self._rows), columns=HISTORY_COLUMNS)

    def to_csv(self, path: str | Path | None = None, *, neutralize_formulas: bool = True) -> str:
        """The history as CSV text, also written to ``path`` if given.

        ``neutralize_formulas``: model text that starts with ``= + - @`` (or a tab or carriage return) gets a
        leading ``'``, so a spreadsheet opening the file shows it instead of running it as a formula (OWASP,
        "CSV Injection"). The JSON export is never altered.
        """
        frame = self.frame
        if neutralize_formulas:
            for col in ("prompt", "text"):
                frame[col] = [f"'{v}" if isinstance(v, str) and v.startswith(_FORMULA_START) else v for v in frame[col]]
        text = frame.to_csv(index=False)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_json(self, path: str | Path | None = None) -> str:
        """The history as a JSON list of records (UTF-8, unescaped), also written to ``path`` if given."""
        text = self.frame.to_json(orient="records", force_ascii=False, indent=1)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text, encoding="utf-8")
        return text
