"""Run suites on a model: per-sample logs, a cache of model outputs, resume after a crash.

:func:`run_suite` writes into ``out_dir``:

- ``samples.jsonl``: one record per (suite, item, system, sample): ``suite``, ``item_id``, ``input``, ``system``,
  ``sample``, ``output`` and ``scores``, in the order of the items in the data (no timings: two runs that compute
  the same thing write the same bytes);
- ``results.json``: per suite its tables (rows in genlab's column convention: ``x``, ``x_low``, ``x_high``,
  ``p_value``, ``n``, ``k``), the run's ``spec`` (suites and versions, model and weights hash, data file hashes,
  settings, seed, genlab version), ``cache_hits`` / ``cache_misses`` and ``timings``;
- ``report.html`` (:mod:`genlab.suites.view`).

**Cache.** Each item's records (outputs and scores) are stored under the sha256 of: the model's fingerprint (the
sha256 of its safetensors files, or of its state dict for a model in memory or with an adapter, and of its
tokenizer), the suite's name and version, the item (id and input), the settings that change outputs (decoding
configurations, token budget, samples) and the seed. An identical second run reads every item from the cache and
makes no model call. Entries are written one file per item, atomically (a temporary file, then a rename), after
each batch.

**Resume.** A run that dies halfway has its finished batches in the cache (by default ``out_dir/cache``); run it
again with the same arguments and it computes only the rest. Batches are cut from the full item list in its order,
so a resumed run forms the same batches and writes the same bytes as an uninterrupted one.

**Seeding by item.** Sampling noise is seeded by (seed, :func:`genlab.suites.base.item_seed` of the item's id,
sample), so an item's sampled text does not depend on its position: reversing or filtering the data leaves it
unchanged (up to floating point: a different batch can change logits in the last bits).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genlab.suites.base import Suite, SuiteInputError

__all__ = ["RUN_FILES", "data_hash", "model_fingerprint", "run_suite"]

#: The files a run writes into its output folder (and ``overwrite=True`` replaces); nothing else there is touched.
RUN_FILES = ("results.json", "samples.jsonl", "report.html", "run.json")


def _sha256_files(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode() + b"\0")
        with path.open("rb") as f:
            for block in iter(lambda f=f: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def data_hash(source: Any) -> str | None:
    """sha256 of a data file (or of a folder's files, by name); None for data held in memory."""
    if not isinstance(source, (str, os.PathLike)):
        return None
    path = Path(source)
    if path.is_dir():
        return _sha256_files(sorted(p for p in path.iterdir() if p.is_file()))
    return _sha256_files([path]) if path.is_file() else None


def model_fingerprint(bundle) -> dict[str, Any]:
    """What identifies a model's outputs: ``weights_sha256`` (its folder's ``*.safetensors`` files when it was
    loaded from a folder without an adapter, else its state dict: names, dtypes, shapes and bytes) and
    ``tokenizer_sha256``, with ``source`` and ``path`` from its provenance."""
    import torch

    prov = getattr(bundle, "provenance", None) or {}
    path = Path(prov["path"]) if prov.get("path") else None
    files = sorted(path.glob("*.safetensors")) if path is not None and path.is_dir() else []
    if files and not prov.get("adapter"):
        weights, how = _sha256_files(files), "safetensors files"
    else:
        h = hashlib.sha256()
        for name, tensor in sorted(bundle.model.state_dict().items()):
            t = tensor.detach().cpu().contiguous()
            h.update(f"{name}|{t.dtype}|{tuple(t.shape)}".encode())
            h.update(t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        weights, how = h.hexdigest(), "state dict"
    tok = bundle.tokenizer
    backend = getattr(tok, "backend_tokenizer", None)
    tok_text = backend.to_str() if backend is not None else json.dumps(tok.get_vocab(), sort_keys=True)
    tok_text += json.dumps([str(tok.bos_token), str(tok.eos_token), str(tok.pad_token), tok.padding_side])
    return {
        "source": prov.get("source", getattr(bundle, "name", "model")),
        "path": prov.get("path"),
        "adapter": prov.get("adapter"),
        "weights_sha256": weights,
        "weights_hashed_from": how,
        "tokenizer_sha256": hashlib.sha256(tok_text.encode("utf-8")).hexdigest(),
    }


def _clean(x: Any) -> Any:
    """JSON-able: numpy scalars as Python numbers, nan and inf as None (strict JSON has no nan)."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _dumps(obj: Any) -> str:
    return json.dumps(_clean(obj), ensure_ascii=False, sort_keys=True, allow_nan=False)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class _Cache:
    def __init__(self, folder: Path):
        self.folder = folder
        self.hits = self.misses = 0

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> list[dict] | None:
        path = self._path(key)
        try:
            return json.loads(path.read_text(encoding="utf-8"))["records"]
        except (FileNotFoundError, ValueError, KeyError):  # absent, or a torn write: compute it again
            return None

    def put(self, key: str, records: list[dict]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, _dumps({"records": records}))


def _genlab_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("genlab")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return None


def _load_bundle(model):
    if isinstance(model, (str, os.PathLike)):
        from genlab.models.loading import load_model

        return load_model(model)
    return model


def _check_out_dir(out: Path, spec: dict, overwrite: bool) -> None:
    """Refuse an output folder that holds another run's files, unless ``overwrite``; the same run may go on."""
    if out.exists() and not out.is_dir():
        raise SuiteInputError(f"--out {out} is a file; give a folder (it is created if missing).")
    present = [name for name in RUN_FILES if (out / name).exists()]
    if not present:
        return
    previous = None
    if (out / "run.json").is_file():
        try:
            previous = json.loads((out / "run.json").read_text(encoding="utf-8"))
        except ValueError:
            previous = None
    if previous == json.loads(_dumps(spec)):
        return  # the same run: a rerun reads the cache, a resumed run finishes
    if not overwrite:
        raise SuiteInputError(
            f"{out} holds another run's results ({', '.join(present)}: different model, suites, data or settings). "
            "Choose another --out folder, or pass --overwrite (overwrite=True) to replace those files."
        )
    for name in present:
        (out / name).unlink()


def run_suite(
    model,
    suites: Suite | Sequence[Suite],
    *,
    prompts: Any = None,
    texts: Any = None,
    pairs: Any = None,
    out_dir: str | os.PathLike,
    samples: int = 1,
    seed: int = 0,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    cache_dir: str | os.PathLike | None = None,
    batch_size: int = 16,
    overwrite: bool = False,
    progress: bool | None = None,
    report: bool = True,
) -> dict:
    """Run ``suites`` on ``model`` (a :class:`genlab.models.Bundle`, or a folder / hub id for ``load_model``) over
    the given data; write ``samples.jsonl``, ``results.json`` (and ``report.html``) into ``out_dir`` and return
    the results. ``samples``: continuations per prompt for sampling configurations (deterministic ones run once);
    ``settings``: per suite name, values that replace the suite's defaults; ``cache_dir``: where model outputs are
    cached (default ``out_dir/cache``). See the module docstring for the cache, resume and seeding.
    """
    from genlab.core.progress import progress_enabled

    t_start = time.perf_counter()
    suites = [suites] if isinstance(suites, Suite) else list(suites)
    if not suites:
        raise SuiteInputError("no suite given; name one or more, e.g. --suite quality")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise SuiteInputError(f"samples must be a positive integer, got {samples!r}")
    data = {"prompts": prompts, "texts": texts, "pairs": pairs}
    for suite in suites:
        suite.check_data(data)
    out = Path(out_dir)
    bundle = _load_bundle(model)
    t_loaded = time.perf_counter()
    fingerprint = model_fingerprint(bundle)
    per_suite = {
        s.name: {**s.settings, **dict((settings or {}).get(s.name, {})), "samples": samples, "batch_size": batch_size}
        for s in suites
    }
    spec = {
        "suites": {s.name: {"version": s.version, "settings": per_suite[s.name]} for s in suites},
        "model": fingerprint,
        "data": {k: {"source": str(v), "sha256": data_hash(v)} for k, v in data.items() if v is not None},
        "seed": seed,
        "genlab_version": _genlab_version(),
    }
    _check_out_dir(out, spec, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    _write_atomic(out / "run.json", _dumps(spec))
    cache = _Cache(Path(cache_dir) if cache_dir is not None else out / "cache")
    show = progress_enabled(progress)
    lines: list[str] = []
    results: dict[str, Any] = {}
    timings: dict[str, float] = {"load_model_s": t_loaded - t_start}
    for suite in suites:
        t0 = time.perf_counter()
        cfg = per_suite[suite.name]
        items = suite.load(data, cfg, bundle)
        ids = [it.id for it in items]
        if len(set(ids)) != len(ids):
            raise SuiteInputError(f"the {suite.name!r} data repeat item ids; give each item its own id")
        key_base = {
            "model": [fingerprint["weights_sha256"], fingerprint["tokenizer_sha256"]],
            "suite": suite.name,
            "version": suite.version,
            "settings": suite.cache_settings(cfg),
            "seed": seed,
        }
        keys = [
            hashlib.sha256(_dumps({**key_base, "id": it.id, "input": it.input}).encode()).hexdigest() for it in items
        ]
        records: list[list[dict] | None] = [cache.get(k) for k in keys]
        hits = sum(r is not None for r in records)
        cache.hits += hits
        bar = None
        if show:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(items), desc=suite.name, unit="item", initial=hits)
        for start in range(0, len(items), batch_size):  # batches cut from the full list: the same on resume
            todo = [i for i in range(start, min(start + batch_size, len(items))) if records[i] is None]
            if not todo:
                continue
            chunk = [items[i] for i in todo]
            solved = suite.solve(bundle, chunk, {**cfg, "seed": seed})
            scored = json.loads(_dumps(suite.score(bundle, chunk, solved, {**cfg, "seed": seed})))
            for i, recs in zip(todo, scored, strict=True):
                cache.put(keys[i], recs)
                records[i] = recs
            cache.misses += len(todo)
            if bar is not None:
                bar.update(len(todo))
        if bar is not None:
            bar.close()
        t1 = time.perf_counter()
        done: list[list[dict]] = [r for r in records if r is not None]
        tables = suite.summarize(items, done, {**cfg, "seed": seed})
        for it, recs in zip(items, done, strict=True):
            for r in recs:
                lines.append(_dumps({"suite": suite.name, "item_id": it.id, "input": it.input, **r}))
        results[suite.name] = {
            "version": suite.version,
            "n_items": len(items),
            "tables": {name: _clean(t.to_dict(orient="records")) for name, t in tables.items()},
        }
        timings[f"{suite.name}_model_s"] = t1 - t0
        timings[f"{suite.name}_summary_s"] = time.perf_counter() - t1
    _write_atomic(out / "samples.jsonl", "".join(line + "\n" for line in lines))
    timings["total_s"] = time.perf_counter() - t_start
    payload = {
        "spec": spec,
        "suites": results,
        "cache_hits": cache.hits,
        "cache_misses": cache.misses,
        "cache_dir": str(cache.folder),
        "timings": timings,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    _write_atomic(out / "results.json", json.dumps(_clean(payload), ensure_ascii=False, indent=1, allow_nan=False))
    if report:
        from genlab.suites.view import render_runs

        _write_atomic(out / "report.html", render_runs([out]))
    return payload
