"""Small helpers shared by genlab's plotly figures, and the figures that several notebooks draw."""

from __future__ import annotations


def error_bars(estimate, low, high) -> dict:
    """Plotly ``error_x``/``error_y`` for an interval [low, high] around each estimate (asymmetric).

    >>> import numpy as np
    >>> bars = error_bars(np.array([0.5]), np.array([0.4]), np.array([0.8]))
    >>> bars["array"].round(2).tolist(), bars["arrayminus"].round(2).tolist()
    ([0.3], [0.1])
    """
    return {"type": "data", "symmetric": False, "array": high - estimate, "arrayminus": estimate - low}


def plot_association_fit(probe, fit: dict | None = None):
    """The model's score per attribute (``model``) against the planted strength (``planted``), one marker per
    attribute (circles: high-frequency attributes, squares: low), with the identity line and the least-squares line
    of ``fit`` (``association_fit`` of :mod:`genlab.probes.next_token_association`; computed when not given).
    ``probe``: the table of that module's ``association_probe`` or of
    :func:`genlab.probes.crows_pairs.pair_dose_response` (columns ``axis``, ``frequency``, ``attribute``,
    ``planted``, ``model``). Notebooks 02 and 30 draw it."""
    import numpy as np
    import plotly.graph_objects as go

    from genlab.probes.next_token_association import association_fit

    fit = fit or association_fit(probe)
    fig = go.Figure()
    for (axis, freq), df in probe.groupby(["axis", "frequency"]):
        fig.add_trace(go.Scatter(x=df["planted"], y=df["model"], mode="markers", name=f"{axis}, {freq} frequency",
                                 text=df["attribute"], marker={"symbol": "circle" if freq == "high" else "square",
                                                               "size": 9, "opacity": 0.8}))
    xs = np.array([0.0, 1.0])
    intercept = float(np.mean(probe["model"]) - fit["slope"] * np.mean(probe["planted"]))
    fig.add_trace(go.Scatter(x=xs, y=xs, mode="lines", name="identity", line={"dash": "dot", "color": "grey"}))
    fig.add_trace(go.Scatter(x=xs, y=intercept + fit["slope"] * xs, mode="lines", name=(
        f"fit: slope {fit['slope']:.2f}, r {fit['pearson_r']:.2f}"), line={"color": "black"}))
    fig.update_layout(title="Associations: model vs planted P(first group | attribute), unseen probe sentences",
                      xaxis={"title": "planted strength", "range": [0, 1]},
                      yaxis={"title": "model P(first group)", "range": [0, 1]}, template="plotly_white")
    return fig
