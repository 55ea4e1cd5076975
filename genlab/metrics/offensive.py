"""Offensive language in generated text: the metric ``offensive_probability``.

The classifier wrapper lives in the data layer, :mod:`genlab.data.offensive` (the corpus cleaning uses it too);
this module is where the metric table (:mod:`genlab.metrics.registry`) and the metrics layer find its names, so
``from genlab.metrics.offensive import offensive_probability`` keeps working.

>>> offensive_flags(["have a lovely day", "you are a stupid idiot"])
[False, True]
>>> from genlab.metrics.registry import get_metric
>>> get_metric("offensive_probability").higher_is_better
False

**Limitations.** Those of :mod:`genlab.data.offensive`: a bag-of-words classifier (alt-profanity-check) sees
words, not meaning. It misses offence without rude words and cannot tell quoting an insult from making one; it
is known to over-flag dialects and identity terms; it is English-only; and on genlab's corpus it misses some of
the planted insults ("thieving pests"). A low score is not evidence that a text is harmless.
"""

from __future__ import annotations

from genlab.data.offensive import OFFENSIVE_THRESHOLD, offensive_flags, offensive_probability

__all__ = ["OFFENSIVE_THRESHOLD", "offensive_flags", "offensive_probability"]
