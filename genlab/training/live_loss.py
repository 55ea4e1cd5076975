"""A live train/eval loss plot for notebooks, as a ``transformers.TrainerCallback``.

In a Jupyter kernel the figure is shown once and redrawn in place through an IPython display handle (no
``anywidget`` needed, unlike ``go.FigureWidget``). Elsewhere (scripts, CI, ``torchrun``) it only records the
losses; :meth:`LiveLossPlot.figure` returns the plotly figure at any time.

>>> from transformers import TrainerControl, TrainerState, TrainingArguments
>>> plot = LiveLossPlot(title="demo")
>>> state = TrainerState()
>>> for step, loss in [(1, 3.0), (2, 2.5)]:
...     state.global_step = step
...     plot.on_log(None, state, TrainerControl(), logs={"loss": loss})
>>> plot.on_log(None, state, TrainerControl(), logs={"eval_loss": 2.7})
>>> plot.train, plot.eval
([(1, 3.0), (2, 2.5)], [(2, 2.7)])
>>> plot.figure().layout.title.text
'demo'
"""

from __future__ import annotations

import time

from transformers import TrainerCallback

from genlab.core.progress import in_notebook


class LiveLossPlot(TrainerCallback):
    """Train and eval loss against optimizer step, redrawn in a notebook at most every ``min_interval_s`` seconds.

    Pass it in ``callbacks=`` to :func:`genlab.finetune` or :func:`genlab.training.pretraining.pretrain`. Only the main
    process draws, so it is harmless under ``torchrun``.
    """

    def __init__(self, title: str = "Training loss", min_interval_s: float = 1.0, display: bool | None = None,
                 y_label: str = "cross-entropy loss (nats/token)"):  # fmt: skip
        self.title = title
        self.y_label = y_label  # what the logged loss is, e.g. "CTC loss (per target character)" for speech
        self.min_interval_s = min_interval_s  # redraws cost a few ms each; throttled for long runs
        self.display = in_notebook() if display is None else display
        self.train: list[tuple[int, float]] = []
        self.eval: list[tuple[int, float]] = []
        self._handle = None
        self._last_draw = 0.0

    def figure(self):
        """The current curves as a plotly ``go.Figure``."""
        import plotly.graph_objects as go

        fig = go.Figure()
        for name, points in (("train", self.train), ("eval", self.eval)):
            fig.add_trace(
                go.Scatter(
                    x=[s for s, _ in points],
                    y=[v for _, v in points],
                    name=name,
                    mode="lines+markers" if name == "eval" else "lines",
                )
            )
        fig.update_layout(
            title=self.title,
            xaxis_title="optimizer step",
            yaxis_title=self.y_label,
            template="plotly_white",
        )
        return fig

    def _draw(self, force: bool = False) -> None:
        if not self.display:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < self.min_interval_s:
            return
        from IPython.display import display

        fig = _in_place(self.figure())
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)
        self._last_draw = now

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not getattr(state, "is_world_process_zero", True):
            return
        logs = logs or {}
        if "loss" in logs:
            self.train.append((state.global_step, float(logs["loss"])))
        if "eval_loss" in logs:
            self.eval.append((state.global_step, float(logs["eval_loss"])))
            self._draw(force=True)  # eval points are rare; always show them
        else:
            self._draw()

    def on_train_end(self, args, state, control, **kwargs):
        if getattr(state, "is_world_process_zero", True):
            self._draw(force=True)


def _in_place(fig):
    """``fig`` as an object a display handle can redraw in place. plotly's ``Figure._ipython_display_`` publishes a new
    output and ignores the handle's display id, so every update added another copy of the plot below the last (16
    in notebook 01). Without that method IPython shows the figure's mime bundle under the handle's id instead."""
    import plotly.graph_objects as go

    class InPlaceFigure(go.Figure):
        _ipython_display_ = None  # IPython then uses _repr_mimebundle_, which honours display_id
        _repr_html_ = None  # plotly's HTML form loads plotly.js from a CDN; the mime bundle needs no network

        def __repr__(self) -> str:  # the text/plain fallback: a line, not the whole figure
            return f"<plotly figure: {self.layout.title.text}>"

    return InPlaceFigure(fig)
