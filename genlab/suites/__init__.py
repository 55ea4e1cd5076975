"""Evaluation suites: one published evaluation each (data, the model calls, the scores, the statistics), run on any
model and the user's own data, from a notebook or the command line (``genlab eval``, ``genlab report``).

>>> from genlab.suites import SUITES
>>> sorted(SUITES)
['crows_pairs', 'decoding', 'quality']
"""

from genlab.suites.base import Item, Suite, SuiteInputError, item_seed, text_id
from genlab.suites.builtin import SUITES, get_suite
from genlab.suites.runner import model_fingerprint, run_suite

__all__ = [
    "SUITES",
    "Item",
    "Suite",
    "SuiteInputError",
    "get_suite",
    "item_seed",
    "model_fingerprint",
    "run_suite",
    "text_id",
]
