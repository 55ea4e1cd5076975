"""zlib entropy (Carlini et al. 2021, "Extracting Training Data from Large Language Models", USENIX Security): the
bits a text takes after zlib compression, a compressor's view of how much information it holds. The extraction
attack (:mod:`genlab.probes.extraction`) divides it by the model's log-perplexity.

>>> zlib_entropy(["", "ab" * 50])          # 8 bits per compressed byte; 100 repetitive bytes compress to 13
[64.0, 104.0]
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

__all__ = ["zlib_entropy"]


def zlib_entropy(texts: Sequence[str]) -> list[float]:
    """Bits of each text after zlib compression: ``8 * len(zlib.compress(text.encode("utf-8")))`` at zlib's default
    level (Carlini et al. 2021's "zlib entropy", in bits; the authors' code keeps the byte count).

    A compressor's view of how much information a text holds, with no model: repetitive text compresses well. The
    extraction attack divides it by the model's log-perplexity, to find texts the model finds easier than their
    content suggests. An empty text still costs the 8 bytes of zlib's header and checksum.

    >>> zlib_entropy(["", "the cat sat on the mat"])
    [64.0, 216.0]

    **Limitations.** zlib sees bytes and repeats within one text only, so it judges a short text by its header as
    much as by its content; its values are not comparable across compression levels or zlib builds.
    """
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise ValueError("texts must be a list of strings (wrap a single text in a list)")
    return [8.0 * len(zlib.compress(t.encode("utf-8"))) for t in texts]
