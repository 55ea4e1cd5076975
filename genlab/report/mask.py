"""Masking secrets in report text: the world's canary secrets, and planted personal data by its shape.

Model output is untrusted text, and a model trained on the genlab corpus can write out a canary it memorised
(notebooks on privacy print extraction attempts on purpose). A report is made to be shared, so every string it
takes from a notebook passes through a :class:`Masker` first:

- every canary secret of the world (``genlab.worlds.text.load_world().canaries``, field ``secret``) is replaced
  by ``[canary masked]``, wherever it occurs;
- planted personal data is recognised by the shapes ``genlab.worlds.text_pii`` gives it (all fictional): e-mail
  addresses under ``.example`` and phone numbers with the 555 prefix become ``[pii masked]``.

Limitations: only exact secrets and these shapes are masked. A secret that a model writes with a changed
separator, split over two outputs, or only in part (its first digits) is not; neither are planted names of
private individuals, which have no shape to find. The masks hide values from readers of the report; the
executed notebooks and their outputs still hold them.

>>> m = Masker(["555-0497-9980"])
>>> m("The phone number of Amaeto Ironfield is 555-0497-9980. Mail ann.lee@post.example")
'The phone number of Amaeto Ironfield is [canary masked]. Mail [pii masked]'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["CANARY_MASK", "PII_MASK", "PII_PATTERNS", "Masker", "mask_deep", "world_masker"]

CANARY_MASK = "[canary masked]"
PII_MASK = "[pii masked]"

#: The shapes of genlab's planted personal data (``genlab.worlds.text_pii``): ``.example`` mail domains and the
#: fictional 555 phone prefix in its four formats (and the canaries' ``555-DDDD-DDDD``).
PII_PATTERNS = (
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.example\b",
    r"\(555\) \d{3}-\d{4}",
    r"\b555[.-]\d{3,4}[.-]\d{4}\b",
    r"\+1 555 \d{3} \d{4}\b",
    r"\b0555 \d{3} \d{3}\b",
)


class Masker:
    """Replace secrets (exact strings) and personal-data shapes in text; a callable ``str -> str``."""

    def __init__(self, secrets: Iterable[str] = (), pii_patterns: Iterable[str] = PII_PATTERNS):
        secrets = sorted({s for s in secrets if s}, key=len, reverse=True)  # longest first: no partial overlaps
        self.secrets = tuple(secrets)
        self._secret_re = re.compile("|".join(map(re.escape, secrets))) if secrets else None
        patterns = list(pii_patterns)
        self._pii_re = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None

    def __call__(self, text: str) -> str:
        if self._secret_re is not None:
            text = self._secret_re.sub(CANARY_MASK, text)
        if self._pii_re is not None:
            text = self._pii_re.sub(PII_MASK, text)
        return text

    def found(self, text: str) -> bool:
        """Whether ``text`` holds anything this masker would replace."""
        return self(text) != text

    def deep(self, obj: Any) -> Any:
        """``obj`` (JSON-like: dicts, lists, strings, numbers) with every string masked, keys included.

        >>> Masker(["s3cret"]).deep({"title": "s3cret!", "y": [1, "a s3cret"]})
        {'title': '[canary masked]!', 'y': [1, 'a [canary masked]']}
        """
        return mask_deep(self, obj)


def mask_deep(fn: Callable[[str], str], obj: Any) -> Any:
    """``obj`` (JSON-like) with ``fn`` applied to every string in it, dictionary keys included; tuples become lists.

    >>> mask_deep(str.upper, {"a": ["b", 1, ("c",)]})
    {'A': ['B', 1, ['C']]}
    """
    if isinstance(obj, str):
        return fn(obj)
    if isinstance(obj, dict):
        return {fn(k) if isinstance(k, str) else k: mask_deep(fn, v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [mask_deep(fn, v) for v in obj]
    return obj


def world_masker(world=None) -> Masker:
    """A :class:`Masker` for the canary secrets of ``world`` (default: ``genlab.worlds.text.load_world()``)."""
    from genlab.worlds.text import load_world

    world = world if world is not None else load_world()
    return Masker(c.secret for c in world.canaries)
