"""Work split over the processes of an ``accelerate launch`` / ``torchrun`` run, gathered back on every process.

:func:`map_sharded` is the one place genlab shards evaluation work: it gives each process a contiguous block of
the items (``PartialState().split_between_processes``), applies a per-item function to that block, and gathers the
blocks (``accelerate.utils.gather_object``) in rank order, which is the original order. Every process returns the
full list, equal to ``fn(items)`` in one process as long as ``fn`` computes each item independently of the others.
Without a launch (a notebook, a plain ``python script.py``) it simply calls ``fn(items)``.

Uneven splits need no padding. accelerate gives the first ``len(items) % n`` processes one item more, and
``gather_object`` gathers Python objects of any length, so nothing is padded and nothing must be dropped afterwards.
(``split_between_processes(..., apply_padding=True)`` repeats the last item so that every process has a block of
the same size, which tensor gathers need; it fails on an empty list, and its duplicates would have to be removed.)

CPU launches. On a machine without an accelerator, accelerate counts the processes of a ``torchrun`` or
``accelerate launch --multi_gpu`` run only when its state is created with ``cpu=True`` (tooling notes, section 3);
otherwise every process thinks it is alone and does all the work. :func:`rank_and_world_size` creates the state
that way when no GPU is visible, and raises if a state created earlier disagrees with the launch.

>>> map_sharded(lambda block: [len(word) for word in block], ["a", "bb", "ccc"])
[1, 2, 3]
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

__all__ = ["map_sharded", "rank_and_world_size"]

T = TypeVar("T")
R = TypeVar("R")

# Where torchrun / accelerate launch (WORLD_SIZE) and MPI launchers put the number of processes; accelerate reads
# the same variables (accelerate.utils.environment.get_cpu_distributed_information).
_WORLD_SIZE_VARIABLES = ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")


def _launched_world_size() -> int:
    """How many processes the launcher started (1 without a launcher), from the environment it sets."""
    for name in _WORLD_SIZE_VARIABLES:
        value = os.environ.get(name)
        if value:
            try:
                return int(value)
            except ValueError:
                raise ValueError(f"the launcher set {name}={value!r}, which is not a number of processes") from None
    return 1


def _accelerator_available() -> bool:
    import torch

    if hasattr(torch, "accelerator"):  # torch >= 2.6: CUDA, XPU, MPS, ...
        return torch.accelerator.is_available()
    return torch.cuda.is_available()


def _state():
    """accelerate's process state: the one already created, or a new one (``cpu=True`` when no GPU is visible)."""
    from accelerate import PartialState

    if PartialState._shared_state:  # created earlier (by an Accelerator, a Trainer or the user): use it
        state = PartialState()
    else:
        state = PartialState(cpu=not _accelerator_available())
    launched = _launched_world_size()
    if state.num_processes != launched:
        raise RuntimeError(
            f"the launcher started {launched} processes, but accelerate's state counts {state.num_processes}. "
            "On a machine without a GPU, accelerate sees the other processes only if its state is created with "
            "cpu=True: create PartialState(cpu=True) or Accelerator(cpu=True) (TrainingArguments(use_cpu=True)) "
            "before this call, or create none and let genlab do it. Launch with `torchrun --nproc_per_node N` or "
            "`accelerate launch --multi_gpu --num_processes N` (`accelerate launch --cpu` starts one process)."
        )
    return state


def rank_and_world_size() -> tuple[int, int]:
    """``(rank, world_size)`` of this process in the current launch; ``(0, 1)`` without one.

    Without a launch, accelerate's state is not created (nothing changes in a notebook).

    >>> rank_and_world_size()
    (0, 1)
    """
    if _launched_world_size() == 1:
        return 0, 1
    state = _state()
    return state.process_index, state.num_processes


def map_sharded(fn: Callable[[list[T]], Sequence[R]], items: Iterable[T]) -> list[R]:
    """``fn(items)``, computed in contiguous blocks, one block per process of the current launch, and gathered.

    Args:
        fn: takes a list of items and returns a list (or any sequence) of results of the same length, item by
            item. Each process calls it on its own block only, and never with an empty block: a process with no
            items (fewer items than processes, or none at all) does not call it. It must not itself call a
            collective operation (a gather, a barrier), since processes with no items would never join it.
        items: the items; they are put in a list first.

    Returns:
        On every process, the results of all items in the order of ``items``. Without a launch (or with one
        process) this is ``list(fn(items))``. The results are pickled to travel between processes.

    If ``fn`` raises on one process, every process raises (that one its own exception, the others a RuntimeError
    naming it), instead of waiting forever for the failed one.

    >>> map_sharded(lambda block: [x * x for x in block], range(5))
    [0, 1, 4, 9, 16]
    >>> map_sharded(lambda block: block, [])    # fn is not called on an empty list
    []
    >>> map_sharded(lambda block: block[:1], [1, 2])
    Traceback (most recent call last):
    ...
    ValueError: map_sharded: fn returned 1 results for a block of 2 items; it must return one result per item, in order
    """
    if not callable(fn):
        raise TypeError(f"map_sharded(fn, items): fn must be a function of a list of items, got {type(fn).__name__}")
    if isinstance(items, (str, bytes)):
        raise TypeError("map_sharded(fn, items): items is a single string; wrap it in a list")
    items = list(items)
    if _launched_world_size() == 1:
        return _apply(fn, items)
    state = _state()
    if state.num_processes == 1:
        return _apply(fn, items)

    from accelerate.utils import gather_object

    with state.split_between_processes(items) as block:  # no padding: see the module docstring
        error = None
        try:  # pickled here, so that an unpicklable result fails here too, not inside the gather
            payload = pickle.dumps((len(items), True, _apply(fn, list(block))))
        except Exception as exc:  # reported to every process below, then re-raised here
            error = exc
            payload = pickle.dumps((len(items), False, f"{type(exc).__name__}: {exc}"))
    # gather_object concatenates the processes' lists in rank order: one payload per process, rank 0 first
    payloads = [pickle.loads(p) for p in gather_object([payload])]
    if error is not None:
        raise error
    for rank, (_, ok, message) in enumerate(payloads):
        if not ok:
            raise RuntimeError(f"map_sharded: process {rank} of {len(payloads)} failed ({message}); see its output")
    lengths = [n for n, _, _ in payloads]
    if len(set(lengths)) > 1:
        raise RuntimeError(
            f"map_sharded: the processes passed lists of different lengths {lengths}; every process must pass "
            "the same items (build them the same way on every process, e.g. from the same file or seed)"
        )
    return [result for _, _, block_results in payloads for result in block_results]


def _apply(fn: Callable[[list[T]], Sequence[R]], block: list[T]) -> list[R]:
    if not block:
        return []
    out = list(fn(block))
    if len(out) != len(block):
        raise ValueError(
            f"map_sharded: fn returned {len(out)} results for a block of {len(block)} items; "
            "it must return one result per item, in order"
        )
    return out
