"""Worlds: the planted-truth worlds genlab's studies measure against, generated from seeds, with what was planted
written down. The text world (``text``: its public names; ``text_spec`` what is true and planted, ``text_grammar``
the sentences, ``text_pii`` planted personal data and insults, ``text_corpus`` the documents), the drawn world
(``drawn``: captioned pictures of coloured shapes) and the spoken world (``spoken``: espeak-ng voices reading the text
world's sentences).

They stand apart from the library: a world imports nothing of genlab but ``genlab.core``, so a world can be read,
regenerated and checked without a model. The library's probes and metrics read a world's truth from here.
"""
