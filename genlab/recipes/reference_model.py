"""A reference model that never saw a secret: the baseline of the extraction attack's perplexity ratio.

Carlini et al. 2021 rank sampled texts by the target model's log-perplexity over a reference model's (GPT-2 XL
against GPT-2 small): text the target finds much easier than a model of the same language that was not trained on
it points at memorisation. The reference must not have seen the secrets, or it hides them. genlab's reference is
the privacy study's small recipe (2 layers of width 128, the default model's tokenizer) trained on
:meth:`genlab.worlds.text_corpus.Corpus.tokenizer_texts` of the default corpus: its training documents that hold
no canary and no planted personal data. It serves the default model (notebook 31) and every privacy-study model,
which are all trained on documents of the same world.

    python -m genlab.recipes.reference_model build      # a few minutes on 2 cores

It writes ``data/models/genlab-reference-small`` with a manifest; :func:`check_reference_corpus` (run by the
build and by the tests) proves that no training text holds a canary's secret or a planted PII value.

**Limitations.** A small model is a weaker reference than the paper's (GPT-2 small is ~10x smaller than XL, this one
~4x smaller than the default model, and trained for fewer steps), so the ratio also rewards text that is merely
easier for a bigger model; the zlib and lowercase ratios are the checks that do not depend on it.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, replace
from pathlib import Path

from genlab.core.paths import data_dir, default_model_dir
from genlab.recipes.base import Option, ShippedModel

__all__ = ["RECIPE", "REFERENCE_NAME", "build", "check_reference_corpus", "load_reference", "reference_model_dir"]

REFERENCE_NAME = "genlab-reference-small"
CORPUS_SEED = 0  # the default model's corpus seed
SHAPE = {"n_embd": 128, "n_layer": 2, "n_head": 4}
STEPS = 600
BATCH_SIZE = 16


def reference_model_dir() -> Path:
    """``data/models/genlab-reference-small``."""
    return data_dir() / "models" / REFERENCE_NAME


def load_reference(device: str = "auto"):
    """The shipped reference model as a bundle; a clear error says how to build it when it is missing."""
    return RECIPE.load(reference_model_dir(), device=device)


def check_reference_corpus(texts, corpus) -> None:
    """Raise ``ValueError`` if any of ``texts`` holds a canary's secret or a planted PII value of ``corpus``
    (phone, email, identity number, date of birth or address; names are also world characters' and may appear).

    >>> from genlab.worlds.text import generate_corpus, small_world
    >>> corpus = generate_corpus(n_train_docs=40, n_validation_docs=2, n_test_docs=0, world=small_world())
    >>> check_reference_corpus(corpus.tokenizer_texts(), corpus)   # silent: nothing leaks
    >>> secret = corpus.world.canaries[-1].secret
    >>> check_reference_corpus(["He wrote " + secret], corpus)
    Traceback (most recent call last):
    ...
    ValueError: 1 reference training text(s) hold a secret or planted PII value ...
    """
    values = {c.secret for c in corpus.world.canaries}
    # person names are left out: a planted name can also be a world character's, which the reference may know
    values |= {s["text"] for d in corpus.documents() for s in d.pii if s["type"] != "person"}
    texts = list(texts)
    pattern = re.compile(_literal_union(sorted(v for v in values if v)))  # one scan for thousands of values
    leaking = [t for t in texts if pattern.search(t)]
    if leaking:
        raise ValueError(
            f"{len(leaking)} reference training text(s) hold a secret or planted PII value (first: "
            f"{leaking[0][:60]!r}...); train the reference on Corpus.tokenizer_texts()"
        )


def _literal_union(words) -> str:
    """A regular expression matching any of ``words`` literally, built as a prefix tree so that a scan tests one
    branch per character instead of every word at every position.

    >>> bool(re.search(_literal_union(["555-12", "555-13", "ab"]), "call 555-13 now"))
    True
    """
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def pattern(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(ch) + pattern(child) for ch, child in node.items() if ch != ""]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return pattern(trie)


def build(steps: int = STEPS, out_dir: Path | None = None, seed: int = 0) -> dict:
    """Train the reference model and save it with a manifest; returns the manifest."""
    from genlab.models import load_model
    from genlab.recipes.default_model import recipe
    from genlab.training.pretraining import pretrain
    from genlab.worlds.text import generate_corpus

    start = time.time()
    corpus = generate_corpus(seed=CORPUS_SEED)
    texts = corpus.tokenizer_texts()
    check_reference_corpus(texts, corpus)
    validation = [d.text for d in corpus.validation if not d.canaries and not d.pii][:200]
    tokenizer = load_model(str(default_model_dir())).tokenizer
    model_config, config = recipe(steps)
    model_config = replace(model_config, **SHAPE)
    config = replace(
        config,
        max_steps=steps,
        batch_size=BATCH_SIZE,
        warmup_steps=min(50, steps),
        eval_steps=steps,
        save_steps=0,
        progress=False,
        seed=seed,
    )
    out = Path(out_dir or reference_model_dir())
    result = pretrain(texts, validation, tokenizer, model_config, config, output_dir=out, overwrite=True)
    manifest = {
        "name": out.name,
        "purpose": "reference model of the extraction attack: never saw a canary or a planted PII value",
        "n_parameters": result.metrics["n_parameters"],
        "model_config": asdict(model_config),
        "pretrain_config": {k: v for k, v in asdict(config).items() if k != "extra_args"},
        "corpus": {
            "seed": CORPUS_SEED,
            "sha256": corpus.sha256(),
            "n_train_texts": len(texts),
            "selection": "Corpus.tokenizer_texts(): training documents with no canary and no planted PII",
        },
        "tokenizer": "the default model's (data/models/genlab-tiny-world)",
        "eval_loss": round(result.metrics["eval_loss"], 4),
        "build_wall_s": round(time.time() - start, 1),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    (out / "training_args.bin").unlink(missing_ok=True)
    return manifest


def _build(out: Path, *, fresh: bool = False, steps: int = STEPS) -> dict:
    """The build command: the reference trains in minutes without checkpoints, so every build is fresh."""
    return build(steps=steps, out_dir=out)


RECIPE = ShippedModel(
    name=REFERENCE_NAME,
    module="genlab.recipes.reference_model",
    description="Build the extraction attack's reference model.",
    build_fn=_build,
    build_options=(Option(("--steps",), {"type": int, "default": STEPS}),),
    printed=("name", "eval_loss", "build_wall_s"),
    fresh_help="accepted for every recipe's sake; the reference keeps no checkpoints and always trains from scratch",
)
main = RECIPE.main

if __name__ == "__main__":
    raise SystemExit(main())
