"""Small helpers shared by genlab's plotly figures."""

from __future__ import annotations


def error_bars(estimate, low, high) -> dict:
    """Plotly ``error_x``/``error_y`` for an interval [low, high] around each estimate (asymmetric).

    >>> import numpy as np
    >>> bars = error_bars(np.array([0.5]), np.array([0.4]), np.array([0.8]))
    >>> bars["array"].round(2).tolist(), bars["arrayminus"].round(2).tolist()
    ([0.3], [0.1])
    """
    return {"type": "data", "symmetric": False, "array": high - estimate, "arrayminus": estimate - low}
