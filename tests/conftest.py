"""Shared fixtures. Importing genlab first sets the hub offline; the guard below makes any attempt to
open a network connection (other than to this machine) fail the test that made it."""

from __future__ import annotations

import pytest

import genlab  # noqa: F401  (sets the offline variables before anything imports transformers)
from genlab.core.offline import forbid_network


@pytest.fixture(autouse=True, scope="session")
def no_network():
    """Fail any test that tries to reach another machine."""
    forbid_network()
    yield


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for a module of tiny-model tests (``pytestmark = pytest.mark.usefixtures("one_thread")``):
    starting threads costs more than it saves for them, and on a shared 2-core machine they oversubscribe."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def small_corpus():
    """A small world's corpus (a few hundred documents), for fast tests."""
    from genlab.worlds.text import generate_corpus, small_world

    return generate_corpus(n_train_docs=300, n_validation_docs=30, n_test_docs=30, seed=0, world=small_world())


@pytest.fixture(scope="session")
def tiny_tokenizer(small_corpus):
    from genlab.data.tokenizer import train_tokenizer

    return train_tokenizer(small_corpus.texts("train"), vocab_size=600, model_max_length=128)


@pytest.fixture(scope="session")
def tiny_bundle(tiny_tokenizer):
    """A randomly initialised 2-layer GPT-2 (about 60k parameters) with a real genlab tokenizer."""
    import copy

    from genlab.models.tiny import tiny_bundle as build

    bundle = build(copy.deepcopy(tiny_tokenizer), n_positions=128, n_embd=32, n_layer=2, n_head=2, seed=0,
                   padding_side="left")
    bundle.provenance = {"name": "tiny-random", "source": "tests/conftest.py"}
    return bundle


@pytest.fixture(scope="session")
def sharp_bundle(tiny_bundle):
    """tiny_bundle with its block and embedding weights scaled 4x: peaked predictions and varied greedy
    continuations (the random model is near uniform and mostly repeats its last token), so a token scored or
    placed at the wrong position shows far beyond any tolerance."""
    import copy

    import torch

    from genlab.models import Bundle

    model = copy.deepcopy(tiny_bundle.model)
    with torch.no_grad():
        for p in [*model.transformer.h.parameters(), model.transformer.wte.weight]:
            p.mul_(4)
    return Bundle(model, tiny_bundle.tokenizer, tiny_bundle.device, "causal")


@pytest.fixture(scope="session")
def default_bundle():
    """The embedded default model (data/models/genlab-tiny-world)."""
    return genlab.load_model()


@pytest.fixture(scope="session")
def lookup_pipeline():
    """The class of a "diffusers" pipeline that draws, for each caption, a fixed picture (or noise for captions it
    does not know): a perfectly memorising model when the lookup holds training pictures, a model that learnt
    nothing when the lookup is empty. ``lookup_pipeline(lookup)`` builds one."""
    import numpy as np

    class LookupPipeline:
        def __init__(self, lookup, noise_seed: int = 0):
            self.lookup, self.rng = lookup, np.random.default_rng(noise_seed)

        def __call__(self, *, prompt, output_type, num_inference_steps, guidance_scale, generator):
            assert output_type == "np" and len(generator) == len(prompt)
            out = [self.lookup[p] / 255.0 if p in self.lookup else self.rng.random((32, 32, 3)) for p in prompt]
            return type("Output", (), {"images": np.stack(out)})()

    return LookupPipeline
