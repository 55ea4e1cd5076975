"""The explorer's HTML, built by plain functions: outputs side by side, badges, coloured tokens, history, messages.

Model text is untrusted: a model can write ``<script>``, ``<img onerror=...>`` or a ``javascript:`` URL as
easily as any other text. Every string that comes from a model, a prompt or a user goes through :func:`esc`
(``html.escape`` with quotes) before it enters markup, in text and in attribute values alike, and no URL is ever
built from it; the only link made here is a ``data:`` URL of base64 bytes (:func:`download_link`). An ipywidgets
``HTML`` widget renders its value as markup, so this module is where that guarantee lives; the tests feed it
script payloads.

>>> esc('<script>alert("x")</script>')
'&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence

import pandas as pd

from genlab.widgets.explore import token_label

__all__ = [
    "PANEL_LETTERS",
    "badges_html",
    "download_link",
    "esc",
    "history_html",
    "message_html",
    "outputs_html",
    "token_html",
]

PANEL_LETTERS = "ABCDEFGH"
_MUTED = "color:#666"
_BOX = "border:1px solid #d0d0d0;border-radius:6px;padding:8px 10px;background:#fff;color:#111"
_TEXT = "white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;font-family:ui-monospace,monospace;" \
        "font-size:13px;line-height:1.45;margin:4px 0"


def esc(text: object) -> str:
    """``html.escape(str(text), quote=True)``: safe in element text and in quoted attribute values.

    >>> esc("javascript:alert(1)")     # harmless as text; never used as a URL here
    'javascript:alert(1)'
    >>> esc("\\" onmouseover=\\"alert(1)")
    '&quot; onmouseover=&quot;alert(1)'
    """
    return html.escape(str(text), quote=True)


def message_html(text: str, kind: str = "error") -> str:
    """A message box (``kind``: error, warning, info, ok), escaped; an empty text gives an empty string.

    >>> message_html("temperature must be > 0")[:40]
    '<div class="genlab-message genlab-error"'
    """
    if not text:
        return ""
    colours = {"error": ("#fdecea", "#b3261e"), "warning": ("#fff4e5", "#8a5300"), "info": ("#e8f0fe", "#174ea6"),
               "ok": ("#e6f4ea", "#137333")}
    if kind not in colours:
        raise ValueError(f"kind must be one of {sorted(colours)}, got {kind!r}")
    background, colour = colours[kind]
    return (
        f'<div class="genlab-message genlab-{kind}" role="{"alert" if kind == "error" else "status"}" '
        f'style="background:{background};color:{colour};border-radius:6px;padding:8px 12px;margin:4px 0;'
        f'white-space:pre-wrap">{esc(text)}</div>'
    )


def _chip(label: str, title: str = "", alert: bool = False) -> str:
    colours = "background:#fdecea;color:#b3261e;border-color:#f1aeb5" if alert else \
        "background:#f1f3f4;color:#333;border-color:#dadce0"
    return (
        f'<span class="genlab-badge{" genlab-alert" if alert else ""}" title="{esc(title)}" '
        'style="display:inline-block;border:1px solid;border-radius:10px;padding:1px 8px;margin:2px 4px 2px 0;'
        f'font-size:12px;{colours}">'
        f"{esc(label)}</span>"
    )


def _fmt(x, digits: int = 2) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def badges_html(b: dict) -> str:
    """One output's badges (:func:`genlab.widgets.explore.badges`) as chips; PII and offensive chips turn red
    when they fire, and their tooltips list what was found (escaped).

    >>> "PII 1" in badges_html({"rep_2": 0.0, "seq_rep_4": 0.0, "perplexity": 3.2, "n_tokens": 4,
    ...                         "offensive": 0.1, "offensive_flag": False,
    ...                         "pii": [{"type": "email", "text": "<a@b.example>"}], "pii_count": 1})
    True
    """
    pii = b.get("pii", [])
    pii_title = "; ".join(f"{m['type']}: {m['text']}" for m in pii) or "no pattern matched (not a general detector)"
    chips = [
        _chip(f"ppl {_fmt(b.get('perplexity'), 1)}", f"perplexity of the {b.get('n_tokens', 0)} generated tokens "
              "under the model, given the prompt"),
        _chip(f"rep-2 {_fmt(b.get('rep_2'), 0)}%", "share of repeated word bigrams in the output (Su et al. 2022)"),
        _chip(f"seq-rep-4 {_fmt(b.get('seq_rep_4'))}", "share of repeated word 4-grams (Welleck et al. 2019)"),
        _chip(f"offensive {_fmt(b.get('offensive'))}", "probability from alt-profanity-check (word-based; see "
              "genlab.metrics.offensive Limitations)", alert=bool(b.get("offensive_flag"))),
        _chip(f"PII {b.get('pii_count', 0)}", pii_title, alert=bool(b.get("pii_count"))),
    ]
    return f'<div class="genlab-badges">{"".join(chips)}</div>'


def outputs_html(frame: pd.DataFrame, badge_rows: Sequence[dict] | None = None,
                 panels: Sequence[tuple[str, str]] | None = None) -> str:
    """The outputs of a :func:`genlab.widgets.explore.run_prompt` frame, one column per (model, setting) panel,
    side by side (they wrap on a narrow screen): the prompt in grey, the continuation, the badges.

    >>> frame = pd.DataFrame({"model": ["m"], "setting": ["greedy"], "sample_id": [0], "prompt": ["Hi"],
    ...                       "text": ["<script>alert(1)</script>"], "finished": [True]})
    >>> "<script>" in outputs_html(frame), "&lt;script&gt;alert(1)&lt;/script&gt;" in outputs_html(frame)
    (False, True)
    """
    if panels is None:
        panels = list(dict.fromkeys(zip(frame["model"], frame["setting"], strict=True)))
    columns = []
    for k, (model, setting) in enumerate(panels):
        letter = PANEL_LETTERS[k] if k < len(PANEL_LETTERS) else str(k + 1)
        rows = frame[(frame["model"] == model) & (frame["setting"] == setting)]
        items = []
        for idx, row in rows.iterrows():
            end = "" if row.get("finished", True) else \
                f'<span style="{_MUTED}" title="stopped at max new tokens">…</span>'
            badge = badges_html(badge_rows[frame.index.get_loc(idx)]) if badge_rows is not None else ""
            items.append(
                f'<div class="genlab-output" style="margin:6px 0 10px 0">'
                f'<div style="{_MUTED};font-size:12px">sample {int(row["sample_id"])}</div>'
                f'<div class="genlab-text" style="{_TEXT}"><span class="genlab-prompt-text" style="{_MUTED}">'
                f'{esc(row["prompt"])}</span><span class="genlab-continuation">{esc(row["text"])}</span>{end}</div>'
                f"{badge}</div>"
            )
        body = "".join(items) or f'<div style="{_MUTED}">no output (cancelled)</div>'
        columns.append(
            f'<div class="genlab-panel" style="flex:1 1 320px;min-width:0;{_BOX}">'
            f'<div style="font-weight:600;margin-bottom:2px">{esc(letter)} · {esc(model)}</div>'
            f'<div style="{_MUTED};font-size:12px;margin-bottom:4px">{esc(setting)}</div>{body}</div>'
        )
    return f'<div class="genlab-outputs" style="display:flex;flex-wrap:wrap;gap:12px">{"".join(columns)}</div>'


def token_html(view: pd.DataFrame) -> str:
    """The generated tokens coloured by their probability (red: unlikely, green: likely); each token's tooltip
    gives its probability, rank, the entropy and the top alternatives, all escaped.

    >>> view = pd.DataFrame({"step": [0], "token": ["<img src=x onerror=alert(1)>"], "prob": [0.5], "rank": [1],
    ...                      "entropy_bits": [1.0], "top_tokens": [["a"]], "top_probs": [[0.5]]})
    >>> "<img" in token_html(view)
    False
    """
    spans = []
    for row in view.itertuples(index=False):
        hue = int(120 * row.prob)  # 0 red .. 120 green
        alternatives = ", ".join(f"{token_label(t)} {p:.2f}" for t, p in zip(row.top_tokens, row.top_probs,
                                                                             strict=True))
        title = (f"step {row.step}: p={row.prob:.3f}, rank {row.rank}, entropy {row.entropy_bits:.2f} bits; "
                 f"top: {alternatives}")
        spans.append(
            f'<span class="genlab-token" title="{esc(title)}" style="background:hsl({hue},70%,85%);'
            f'border-radius:3px;padding:0 1px;margin:0 1px">{esc(row.token)}</span>'
        )
    legend = (f'<div style="{_MUTED};font-size:12px;margin-top:4px">colour: probability of each token under the '
              "model (red low, green high); hover a token for its alternatives</div>")
    return f'<div class="genlab-tokens" style="{_TEXT}">{"".join(spans)}</div>{legend}'


def history_html(history: pd.DataFrame, last: int = 10, width: int = 90) -> str:
    """The ``last`` rows of a :class:`genlab.widgets.explore.History` frame as a table, newest first; texts
    shortened to ``width`` characters (the export has them in full).

    >>> "&lt;script&gt;" in history_html(pd.DataFrame({"run": [1], "model": ["m"], "setting": ["s"],
    ...     "sample_id": [0], "text": ["<script>"], "perplexity": [2.0], "offensive": [0.1], "pii_count": [0]}))
    True
    """
    if history.empty:
        return f'<div style="{_MUTED}">No runs yet.</div>'
    cell = '<td style="padding:2px 8px;vertical-align:top;{}">{}</td>'.format
    rows = []
    for row in history.tail(last).iloc[::-1].itertuples(index=False):
        text = row.text if len(row.text) <= width else row.text[: width - 1] + "…"
        pii = "–" if pd.isna(row.pii_count) else int(row.pii_count)
        rows.append(
            "<tr>"
            + "".join(cell("white-space:nowrap", esc(v)) for v in (row.run, row.model, row.setting, row.sample_id))
            + cell(_TEXT, esc(text))
            + "".join(cell("text-align:right", v) for v in (_fmt(row.perplexity, 1), _fmt(row.offensive), esc(pii)))
            + "</tr>"
        )
    head = "".join(f'<th style="padding:2px 8px;text-align:left">{h}</th>' for h in (
        "run", "model", "setting", "sample", "text", "ppl", "offensive", "PII"))
    more = (f'<div style="{_MUTED};font-size:12px">showing the last {last} of {len(history)} outputs; export for '
            "all</div>") if len(history) > last else ""
    return (f'<div class="genlab-history" style="overflow-x:auto"><table style="border-collapse:collapse;'
            f'font-size:13px;width:100%"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            f"{more}</div>")


def download_link(content: str, filename: str, mime: str = "text/plain") -> str:
    """An ``<a download>`` link to ``content`` as a base64 ``data:`` URL (nothing in it is interpreted as markup).

    >>> download_link("a,b", "history.csv", "text/csv")
    '<a download="history.csv" href="data:text/csv;charset=utf-8;base64,YSxi">history.csv</a>'
    """
    data = base64.b64encode(content.encode("utf-8")).decode("ascii")
    return f'<a download="{esc(filename)}" href="data:{esc(mime)};charset=utf-8;base64,{data}">{esc(filename)}</a>'
