"""``PromptExplorer``: an ipywidgets prompt explorer for JupyterLab and Voilà, a thin view over
:mod:`genlab.widgets.explore` (which does the work) and :mod:`genlab.widgets.views` (which builds the HTML).

A prompt box; two panels, A and B, each a model and decoding settings, side by side (untick "compare" for A
alone); shared length, samples and seed; Generate and Cancel with a progress bar; the outputs with their badges;
the per-token view of one output (a plotly figure and the coloured tokens); the history with CSV and JSON export.

Responsiveness: Generate starts a background thread, so the kernel keeps handling clicks; the progress bar moves
with every token; Cancel sets an event that the model checks before its next forward pass
(:func:`genlab.widgets.explore.run_prompt`). While a run is going, the controls are disabled; do not use the same
model from another cell until it ends (its forward passes are watched for the cancel event meanwhile).

Errors: bad input (an empty prompt, a prompt too long for the model's context, temperature <= 0, top-p outside
(0, 1], ...) shows a message in the widget; an unexpected error shows its type and message, never a traceback
(the traceback goes to the ``genlab.widgets.explorer`` logger).

>>> from genlab.models.tiny import tiny_bundle
>>> explorer = PromptExplorer({"tiny": tiny_bundle()}, prompt="the cat", max_new_tokens=5)
>>> _ = explorer.generate(wait=True)
>>> len(explorer.history), "A · tiny" in explorer.outputs.value
(2, True)
>>> explorer.panel_a.temperature.value = 0.0; explorer.panel_a.sample.value = True
>>> _ = explorer.generate(wait=True)
>>> "temperature must be greater than 0" in explorer.message.value
True
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import ipywidgets as w

from genlab.generation.decoder import DecodingConfig, preset
from genlab.widgets.explore import (
    MAX_SAMPLES,
    History,
    badges,
    check_inputs,
    decoding_settings,
    run_prompt,
    token_figure,
    token_view,
)
from genlab.widgets.views import (
    download_link,
    esc,
    history_html,
    message_html,
    outputs_html,
    token_html,
)

__all__ = ["PromptExplorer"]

logger = logging.getLogger(__name__)
_LABEL = {"description_width": "8.5em"}
_DOWNLOAD_LIMIT = 5_000_000  # characters: larger exports are written to a file only, not offered as a link


def _figure_output(fig) -> dict:
    """A display_data output with the figure as plotly's JSON mimetype only (no inline plotly.js)."""
    import plotly.io as pio

    bundle = pio.renderers["plotly_mimetype"].to_mimebundle(fig.to_dict())
    bundle["text/plain"] = "plotly figure: per-token probabilities"
    return {"output_type": "display_data", "data": bundle, "metadata": {}}


class _Panel:
    """One side of the comparison: a model and its decoding settings."""

    def __init__(self, letter: str, models: list[str], model: str, cfg: DecodingConfig, optional: bool):
        self.letter = letter
        width = w.Layout(width="20em")
        self.enabled = w.Checkbox(value=True, description="compare", indent=False, layout=w.Layout(width="auto"))
        self.model = w.Dropdown(options=models, value=model, description="model", style=_LABEL, layout=width)
        self.sample = w.Checkbox(value=True, description="sample (off: greedy)", indent=False,
                                 layout=w.Layout(width="auto"))
        self.temperature = w.FloatText(description="temperature", style=_LABEL, layout=width, step=0.1)
        self.top_k = w.IntText(description="top-k (0: off)", style=_LABEL, layout=width)
        self.top_p = w.FloatText(description="top-p (1: off)", style=_LABEL, layout=width, step=0.05)
        self.typical_p = w.FloatText(description="typical-p (1: off)", style=_LABEL, layout=width, step=0.05)
        self.repetition_penalty = w.FloatText(description="repetition pen.", style=_LABEL, layout=width, step=0.1)
        self.set(cfg)
        for control, name in ((self.model, "model"), (self.sample, "sample"), (self.temperature, "temperature"),
                              (self.top_k, "top-k"), (self.top_p, "top-p"), (self.typical_p, "typical-p"),
                              (self.repetition_penalty, "repetition-penalty"), (self.enabled, "compare")):
            control.add_class(f"genlab-{letter.lower()}-{name}")
        title = w.HTML(f'<b style="font-size:14px">{esc(letter)}</b>', layout=w.Layout(width="auto"))
        header = w.HBox([title, self.enabled] if optional else [title], layout=w.Layout(align_items="center",
                                                                                          gap="12px"))
        self.box = w.VBox(
            [header, self.model, self.sample, self.temperature, self.top_k, self.top_p, self.typical_p,
             self.repetition_penalty],
            layout=w.Layout(border="1px solid #d0d0d0", padding="6px 10px", margin="0 12px 8px 0", width="auto"),
        )
        self.box.add_class(f"genlab-panel-{letter.lower()}")
        self.sample.observe(lambda _: self.refresh(), "value")
        self.enabled.observe(lambda _: self.refresh(), "value")
        self.refresh()

    def set(self, cfg: DecodingConfig) -> None:
        """Show ``cfg`` in the controls (greedy or sampling; beam and contrastive search are not offered)."""
        if cfg.method not in ("greedy", "sample"):
            raise ValueError(f"{cfg.name}: the explorer's controls cover greedy decoding and sampling, not "
                             f"{cfg.method} search; call genlab.widgets.explore.run_prompt for that")
        self.sample.value = cfg.do_sample
        self.temperature.value, self.top_k.value = cfg.temperature, cfg.top_k
        self.top_p.value, self.typical_p.value = cfg.top_p, cfg.typical_p
        self.repetition_penalty.value = cfg.repetition_penalty

    def refresh(self, running: bool = False) -> None:
        on = self.enabled.value and not running
        self.enabled.disabled = running
        for control in (self.model, self.sample, self.repetition_penalty):
            control.disabled = not on
        for control in (self.temperature, self.top_k, self.top_p, self.typical_p):
            control.disabled = not (on and self.sample.value)

    def config(self) -> DecodingConfig:
        """The panel's settings; ValueError with readable messages, prefixed with the panel's letter."""
        try:
            return decoding_settings(
                sample=self.sample.value, temperature=self.temperature.value, top_k=self.top_k.value,
                top_p=self.top_p.value, typical_p=self.typical_p.value,
                repetition_penalty=self.repetition_penalty.value,
            )
        except ValueError as err:
            raise ValueError(f"{self.letter}: {err}") from None


class PromptExplorer:
    """An interactive prompt explorer over one or more loaded models (see the module docstring).

    Args:
        bundles: ``{name: Bundle}`` (or one Bundle) to choose from.
        prompt: the prompt box's initial text.
        model_a, model_b: the panels' initial models (default: the first, and the second if there is one).
        settings_a, settings_b: the panels' initial decoding settings, preset names or DecodingConfigs of greedy
            decoding or sampling; ``settings_b=None`` starts with B switched off.
        max_new_tokens, n_samples, seed: the shared controls' initial values.
        export_dir: where "Save CSV" and "Save JSON" write ``explorer_history.csv`` / ``.json``.

    Display it as the last expression of a cell (or ``display(explorer)``); ``explorer.widget`` is the box.
    From code: :meth:`generate` (the Generate button), :meth:`cancel`, :meth:`show_tokens`, :meth:`export`;
    ``explorer.last`` is the last run's frame and ``explorer.history`` the :class:`History`.

    >>> import tempfile
    >>> from genlab.models.tiny import tiny_bundle
    >>> explorer = PromptExplorer(tiny_bundle(), prompt="the", settings_b=None, max_new_tokens=3,
    ...                           export_dir=tempfile.mkdtemp())
    >>> _ = explorer.generate(wait=True)
    >>> explorer.export("json").name, len(explorer.history), explorer.last["setting"].tolist()
    ('explorer_history.json', 1, ['greedy'])
    """

    def __init__(
        self,
        bundles,
        *,
        prompt: str = "",
        model_a: str | None = None,
        model_b: str | None = None,
        settings_a: str | DecodingConfig = "greedy",
        settings_b: str | DecodingConfig | None = "nucleus0.95",
        max_new_tokens: int = 40,
        n_samples: int = 1,
        seed: int = 0,
        export_dir: str | Path = ".",
    ):
        if hasattr(bundles, "model") and hasattr(bundles, "tokenizer"):
            bundles = {bundles.name: bundles}
        if not isinstance(bundles, Mapping) or not bundles:
            raise ValueError("PromptExplorer needs {name: Bundle} with at least one model")
        self.bundles = dict(bundles)
        names = list(self.bundles)
        model_a = model_a or names[0]
        model_b = model_b or names[min(1, len(names) - 1)]
        for m in (model_a, model_b):
            if m not in self.bundles:
                raise ValueError(f"unknown model {m!r}; loaded: {names}")
        as_cfg = lambda s: preset(s) if isinstance(s, str) else s  # noqa: E731
        self.history = History()
        self.export_dir = Path(export_dir)
        self.last = None  # the last run's frame
        self.last_badges: list[dict] = []
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._progress_at = 0.0

        self.prompt = w.Textarea(value=prompt, placeholder="Type a prompt for the model to continue…",
                                 layout=w.Layout(width="100%", height="5em"))
        self.prompt.add_class("genlab-prompt")
        self.panel_a = _Panel("A", names, model_a, as_cfg(settings_a), optional=False)
        self.panel_b = _Panel("B", names, model_b, as_cfg(settings_b or "nucleus0.95"), optional=True)
        self.panel_b.enabled.value = settings_b is not None
        short = w.Layout(width="15em")
        self.max_new_tokens = w.IntText(value=max_new_tokens, description="max new tokens", style=_LABEL,
                                        layout=short)
        self.n_samples = w.IntText(value=n_samples, description=f"samples (≤{MAX_SAMPLES})", style=_LABEL,
                                   layout=short)
        self.seed = w.IntText(value=seed, description="seed", style=_LABEL, layout=short)
        for control, name in ((self.max_new_tokens, "max-new-tokens"), (self.n_samples, "n-samples"),
                              (self.seed, "seed")):
            control.add_class(f"genlab-{name}")
        self.generate_button = w.Button(description="Generate", button_style="primary",
                                        tooltip="Generate with A (and B)")
        self.cancel_button = w.Button(description="Cancel", button_style="warning", disabled=True,
                                      tooltip="Stop after the current token")
        self.generate_button.add_class("genlab-generate")
        self.cancel_button.add_class("genlab-cancel")
        self.progress = w.FloatProgress(value=0.0, min=0.0, max=1.0, layout=w.Layout(width="14em"))
        self.progress.add_class("genlab-progress")
        self.status = w.HTML("")
        self.status.add_class("genlab-status")
        self.message = w.HTML("")
        self.message.add_class("genlab-message-area")
        self.outputs = w.HTML("")
        self.outputs.add_class("genlab-outputs-area")
        self.token_pick = w.Dropdown(options=[], description="output", style={"description_width": "4em"},
                                     layout=w.Layout(width="32em"))
        self.token_pick.add_class("genlab-token-pick")
        self.tokens = w.HTML("")
        self.tokens.add_class("genlab-tokens-area")
        self.token_plot = w.Output(layout=w.Layout(width="100%"))
        self.token_plot.add_class("genlab-token-plot")
        self.history_view = w.HTML(history_html(self.history.frame))
        self.history_view.add_class("genlab-history-area")
        self.save_csv = w.Button(description="Save CSV", tooltip="Write the history to explorer_history.csv")
        self.save_json = w.Button(description="Save JSON", tooltip="Write the history to explorer_history.json")
        self.save_csv.add_class("genlab-save-csv")
        self.save_json.add_class("genlab-save-json")
        self.export_note = w.HTML("")
        self.export_note.add_class("genlab-export-note")

        self.generate_button.on_click(lambda _: self.generate())
        self.cancel_button.on_click(lambda _: self.cancel())
        self.save_csv.on_click(lambda _: self.export("csv"))
        self.save_json.on_click(lambda _: self.export("json"))
        self.token_pick.observe(self._on_pick, "value")

        heading = lambda text: w.HTML(f'<div style="font-weight:600;font-size:14px;margin:10px 0 2px">{text}</div>')  # noqa: E731
        self.widget = w.VBox(
            [
                w.HTML('<div style="font-size:18px;font-weight:600">Prompt explorer</div><div style="color:#555">'
                       "Continue a prompt with two models or two decoding settings side by side; hover a badge "
                       "for what it measures.</div>"),
                self.prompt,
                w.HBox([self.panel_a.box, self.panel_b.box], layout=w.Layout(flex_flow="row wrap")),
                w.HBox([self.max_new_tokens, self.n_samples, self.seed], layout=w.Layout(flex_flow="row wrap")),
                w.HBox([self.generate_button, self.cancel_button, self.progress, self.status],
                       layout=w.Layout(align_items="center", flex_flow="row wrap", gap="8px")),
                self.message,
                heading("Outputs"),
                self.outputs,
                heading("Per-token view"),
                self.token_pick,
                self.tokens,
                self.token_plot,
                heading("History"),
                self.history_view,
                w.HBox([self.save_csv, self.save_json, self.export_note],
                       layout=w.Layout(align_items="center", gap="8px", flex_flow="row wrap")),
            ],
            layout=w.Layout(max_width="1100px", width="100%"),
        )
        self.widget.add_class("genlab-explorer")

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # --- running ---------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _request(self) -> dict:
        """The run the controls describe; ValueError with every problem found, as readable sentences."""
        problems, configs, panels = [], {}, []
        for panel in (self.panel_a, self.panel_b):
            if not panel.enabled.value:
                continue
            try:
                cfg = panel.config()
            except ValueError as err:
                problems.append(str(err))
                continue
            configs[cfg.name] = cfg
            panels.append((panel.model.value, cfg.name))
        if len(panels) == 2 and panels[0] == panels[1]:
            problems.append("B has the same model and settings as A: change B's model or a setting, or untick "
                            "B's compare box.")
        # the prompt and length are checked against every model in use, even when a panel's settings are wrong
        in_use = [p.model.value for p in (self.panel_a, self.panel_b) if p.enabled.value]
        models = {m: self.bundles[m] for m in in_use}
        request = {"prompt": self.prompt.value, "max_new_tokens": self.max_new_tokens.value,
                   "n_samples": self.n_samples.value, "seed": self.seed.value}
        problems += check_inputs(models, settings=list(configs.values()) or ["greedy"], **request)
        if problems:
            raise ValueError("\n".join(problems))
        return {"bundles": models, "settings": list(configs.values()), "panels": panels, **request}

    def generate(self, wait: bool = False) -> threading.Thread | None:
        """Start a run with the current controls in a background thread (what the Generate button does) and
        return the thread; ``wait=True`` joins it. Invalid controls show a message and start nothing (None)."""
        if self.running:
            return self._thread
        self.message.value = ""
        try:
            request = self._request()
        except ValueError as err:
            self.status.value, self.progress.value, self.progress.bar_style = "", 0.0, ""
            self.message.value = message_html(str(err), "error")
            return None
        self._cancel = threading.Event()
        self._set_running(True)
        self._thread = threading.Thread(target=self._work, args=(request,), name="genlab-explorer", daemon=True)
        self._thread.start()
        if wait:
            self._thread.join()
        return self._thread

    def cancel(self) -> None:
        """Stop the running generation before the model's next forward pass (what Cancel does)."""
        if self.running:
            self._cancel.set()
            self.status.value = "cancelling…"

    def _set_running(self, running: bool) -> None:
        self.generate_button.disabled = running
        self.cancel_button.disabled = not running
        for control in (self.prompt, self.max_new_tokens, self.n_samples, self.seed, self.token_pick,
                        self.save_csv, self.save_json):
            control.disabled = running
        for panel in (self.panel_a, self.panel_b):
            panel.refresh(running)
        if running:
            self.progress.value, self.progress.bar_style = 0.0, ""
            self.status.value = "generating…"

    def _on_progress(self, fraction: float) -> None:
        self.progress.value = fraction
        self.status.value = f"generating… {100 * fraction:.0f}%"

    def _work(self, request: dict) -> None:
        start = time.perf_counter()
        try:
            frame = run_prompt(
                request["bundles"], request["prompt"], request["settings"], panels=request["panels"],
                n_samples=request["n_samples"], max_new_tokens=request["max_new_tokens"], seed=request["seed"],
                cancel=self._cancel, on_progress=self._on_progress,
            )
            rows = [badges(request["bundles"][r.model], r.text, prompt=r.prompt, tokens=r.tokens)
                    for r in frame.itertuples(index=False)]
            self.last, self.last_badges = frame, rows
            run = self.history.add(frame, rows) if len(frame) else None  # a run cancelled before any output: none
            self.outputs.value = outputs_html(frame, rows, request["panels"])
            self.history_view.value = history_html(self.history.frame)
            seconds = time.perf_counter() - start
            if frame.attrs.get("cancelled"):
                self.progress.bar_style = "warning"
                self.status.value = f"cancelled after {seconds:.1f} s"
                kept = f"the {len(frame)} output(s) finished before it are shown (run {run})" if run else \
                    "no output had finished"
                self.message.value = message_html(f"Cancelled: {kept}.", "warning")
            else:
                self.progress.value, self.progress.bar_style = 1.0, "success"
                self.status.value = f"run {run}: {len(frame)} output(s) in {seconds:.1f} s"
            self._set_token_choices(frame)
        except ValueError as err:  # inputs the checks above did not catch (e.g. a model's own limits)
            self.progress.bar_style = "danger"
            self.status.value = ""
            self.message.value = message_html(str(err), "error")
        except Exception as err:  # never a traceback in the widget; the log has it
            logger.exception("prompt explorer: generation failed")
            self.progress.bar_style = "danger"
            self.status.value = ""
            self.message.value = message_html(f"Generation failed ({type(err).__name__}): {err}", "error")
        finally:
            self._set_running(False)

    # --- per-token view --------------------------------------------------------------------------------------

    def _set_token_choices(self, frame) -> None:
        letters = {p: "AB"[i] for i, p in enumerate(dict.fromkeys(zip(frame["model"], frame["setting"],
                                                                        strict=True)))}
        options = [
            (f"{letters[(r.model, r.setting)]} · {r.model} · {r.setting} · sample {r.sample_id}", i)
            for i, r in enumerate(frame.itertuples(index=False))
        ]
        self.token_pick.unobserve(self._on_pick, "value")
        try:
            self.token_pick.options = options
            self.token_pick.value = 0 if options else None
        finally:
            self.token_pick.observe(self._on_pick, "value")
        if options:
            self.show_tokens(0)
        else:
            self.tokens.value, self.token_plot.outputs = "", ()

    def _on_pick(self, change) -> None:
        if change["new"] is not None:
            self.show_tokens(change["new"])

    def show_tokens(self, index: int) -> None:
        """Show the per-token view of output ``index`` (a row of :attr:`last`)."""
        try:
            row = self.last.iloc[index]
            view = token_view(self.bundles[row["model"]], row["prompt"], row["tokens"])
            if view.empty:
                self.tokens.value = message_html("This output has no tokens.", "info")
                self.token_plot.outputs = ()
                return
            self.tokens.value = token_html(view)
            self.token_plot.outputs = (_figure_output(token_figure(view, title=f"Output {index}: probability of "
                                                                              "each generated token")),)
        except Exception as err:
            logger.exception("prompt explorer: per-token view failed")
            self.tokens.value = message_html(f"Per-token view failed ({type(err).__name__}): {err}", "error")

    # --- export ------------------------------------------------------------------------------------------------

    def export(self, kind: str) -> Path | None:
        """Write the history to ``export_dir/explorer_history.{csv,json}``; show the path and a download link."""
        if kind not in ("csv", "json"):
            raise ValueError(f"kind must be 'csv' or 'json', got {kind!r}")
        path = self.export_dir / f"explorer_history.{kind}"
        try:
            text = self.history.to_csv(path) if kind == "csv" else self.history.to_json(path)
        except OSError as err:
            self.export_note.value = message_html(f"Could not write {path}: {err}", "error")
            return None
        link = download_link(text, path.name, "text/csv" if kind == "csv" else "application/json") \
            if len(text) <= _DOWNLOAD_LIMIT else ""
        self.export_note.value = (f'<span class="genlab-export-path">wrote {esc(path.resolve())} '
                                  f"({len(self.history)} rows)</span> {link}")
        return path
