"""Data: the tokenizer, readers for your own texts, augmentation and
perturbation, and cleaning: ``dedup`` (exact and MinHash near duplicates), ``pii`` (detection and redaction with
patterns, Presidio and scrubadub), ``offensive`` (the offline classifier and sentence filter) and ``cleaning``
(all three over a ``datasets.Dataset``, with a report of what was removed).

The planted-truth worlds and their corpora live in ``genlab.worlds``.
"""
