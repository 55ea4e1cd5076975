"""Library noise, fixed where it arises: each message the executed notebooks used to print on stderr, provoked on
purpose with tiny inputs, and shown not to come out any more (while everything else still does).

The report's own check (``genlab.report.extract.notebook_noise``, which ``make report`` and tests/test_report.py
run on executed notebooks) finds new noise; these tests pin each fix to its cause, in a few seconds."""

from __future__ import annotations

import contextlib
import logging
import os
import warnings

import numpy as np
import pytest

pytestmark = pytest.mark.usefixtures("one_thread")


@contextlib.contextmanager
def transformers_log():
    """Every message transformers logs while the block runs (its loggers do not propagate to the root logger, and
    ``warning_once`` remembers what it said: both are set aside here)."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    logging.Logger.warning_once.cache_clear()  # transformers' "once" is per process; each test starts afresh
    handler, root = Keep(level=logging.WARNING), logging.getLogger("transformers")
    root.addHandler(handler)
    try:
        yield records
    finally:
        root.removeHandler(handler)


def test_mauve_drops_only_faiss_small_sample_warning(capfd):
    from genlab.metrics.mauve import _without_faiss_small_n_warning, mauve_from_features

    h = np.random.default_rng(0).normal(size=(28, 8)).astype("float32")
    mauve_from_features(h, h + 0.5)
    with _without_faiss_small_n_warning():
        os.write(2, b"WARNING clustering 28 points to 2 centroids: please provide at least 78 training points\n")
        os.write(2, b"something else faiss says\n")
    err = capfd.readouterr().err
    assert "WARNING clustering" not in err and "something else faiss says" in err


def test_contrastive_search_and_finished_rows_log_nothing(tiny_bundle):
    import genlab

    with transformers_log() as log:
        genlab.generate(
            tiny_bundle,
            ["The fox", "A cat sat on the mat and"],
            ["contrastive", "greedy"],
            max_new_tokens=6,
            progress=False,
        )
    assert not [m for m in log if "generation flags" in m or "attention_mask" in m], log


def test_training_tokenizes_whole_documents_and_names_its_loss(tiny_tokenizer):
    import copy

    from genlab.models.gpt2 import ModelConfig
    from genlab.training.pretraining import PretrainConfig, pretrain, tokenize_documents

    tok = copy.deepcopy(tiny_tokenizer)  # pretrain sets its model_max_length; the fixture is shared
    long_doc = " ".join(["the fox ran to the mill"] * 60)  # longer than the tokenizer's 128-token maximum
    with transformers_log() as log:
        tokenize_documents(tok, [long_doc], max_length=32, packing=True)
        pretrain(
            [long_doc] * 4,
            [long_doc],
            tok,
            ModelConfig(n_positions=32, n_embd=16, n_layer=1, n_head=2),
            PretrainConfig(max_steps=1, batch_size=2),
        )
    assert not [m for m in log if "sequence length" in m or "loss_type" in m], log


def test_scoring_texts_longer_than_the_tokenizers_maximum_logs_nothing(tiny_bundle):
    """Perplexity and the other scorers cut long texts into windows of the model's context themselves, so the
    tokenizer's "sequence length is longer than the specified maximum" warning does not apply (and, printed by a
    notebook, failed `series report`)."""
    from genlab.metrics.perplexity import perplexity
    from genlab.models.scoring import encode_texts

    long_text = " ".join(["the fox ran to the mill"] * 60)  # longer than the tokenizer's 128-token maximum
    with transformers_log() as log:
        (ids,) = encode_texts(tiny_bundle.tokenizer, [long_text], add_bos=True)
        perplexity(tiny_bundle, [long_text])
    assert len(ids) > tiny_bundle.tokenizer.model_max_length
    assert not [m for m in log if "sequence length" in m], log


@pytest.mark.parametrize("method", ["lora", "prefix_tuning"])
def test_finetuning_with_peft_is_quiet(tiny_bundle, method):
    from genlab.training.finetuning import finetune
    from genlab.training.tasks import build_task
    from genlab.worlds.text import small_world

    task = build_task("world_qa", small_world(), seed=0, n_train=4, n_eval=2)  # short: fits the tiny context
    with transformers_log() as log, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuned, _ = finetune(tiny_bundle, task, method, steps=1, batch_size=2, progress=False)
        task.evaluate(tuned)
    assert not [m for m in log if "loss_type" in m], log
    noisy = [
        str(w.message)
        for w in caught
        if "is_gradient_checkpointing" in str(w.message) or "past_key_values" in str(w.message)
    ]
    assert noisy == []


def test_live_loss_plot_redraws_under_one_display_id(monkeypatch):
    import plotly.io as pio
    from IPython.core.formatters import DisplayFormatter

    from genlab.training.live_loss import LiveLossPlot, _in_place

    monkeypatch.setattr(pio.renderers, "default", "plotly_mimetype")  # what a Jupyter kernel uses
    fig = _in_place(LiveLossPlot(title="demo").figure())
    data, _ = DisplayFormatter().format(fig)
    # IPython shows the plotly mime bundle (which a display handle updates in place) and a one-line text fallback;
    # no _ipython_display_ (which ignores display ids) and no HTML (which would fetch plotly.js from a CDN)
    assert set(data) == {"application/vnd.plotly.v1+json", "text/plain"}
    assert data["text/plain"] == "<plotly figure: demo>" and fig.layout.title.text == "demo"
