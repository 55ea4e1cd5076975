"""finetune(): methods, records, portable adapters, merging, atomic and resumable checkpoints, plots, comparisons."""

from __future__ import annotations

import copy
import json
import math
import os
import shutil

import pytest
import torch
from transformers import TrainerCallback

import genlab
from genlab.training.adversarial import AdversarialConfig
from genlab.training.finetuning import METHODS, FinetuneTrainer, base_reference, finetune, load_finetuned, merge
from genlab.training.live_loss import LiveLossPlot
from genlab.training.tasks import build_task, completion_perplexity, encode_pairs, generate_completions
from genlab.worlds.text import small_world

FAST = {"batch_size": 8, "progress": False}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def task():
    return build_task("world_qa", small_world(), seed=0, n_train=24, n_eval=12)


def _state(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _logits(bundle, text="Question: Where does Lirane live?\nAnswer:"):
    ids = bundle.tokenizer(bundle.tokenizer.bos_token + text, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        return bundle.model(**ids.to(bundle.device)).logits


# Trainable parameters of the tiny GPT-2 (2 layers, width 32, MLP 128), counted by hand from each method's definition.
EXPECTED_TRAINABLE = {
    "lora": 2 * 8 * ((32 + 96) + (32 + 32) + (128 + 32)),  # r(in + out) for c_attn, attn.c_proj, mlp.c_proj
    "ia3": 2 * (96 + 128),  # a scale per c_attn output (k, v; q fixed to 1) and per mlp.c_proj input
    "prompt_tuning": 16 * 32,  # 16 virtual token embeddings
    "prefix_tuning": 16 * 2 * 2 * 32,  # 16 positions x 2 layers x (key, value) x width
}


@pytest.mark.parametrize("method", METHODS)
def test_each_method_trains_only_its_parameters_and_leaves_the_base_alone(tiny_bundle, task, method):
    before = _state(tiny_bundle.model)
    tuned, record = finetune(tiny_bundle, task, method, steps=2, **FAST)
    after = _state(tiny_bundle.model)
    assert all(torch.equal(before[k], after[k]) for k in before)  # the caller's bundle is untouched
    n_base = tiny_bundle.n_parameters()
    if method == "full":
        assert record.trainable_params == record.total_params == n_base and record.trainable_share == 1.0
        assert not torch.equal(_state(tuned.model)["lm_head.weight"], before["lm_head.weight"])
    else:
        assert record.trainable_params == EXPECTED_TRAINABLE[method]
        assert record.trainable_share == pytest.approx(record.trainable_params / record.total_params)
        checked = set()
        for name, p in tuned.model.named_parameters():  # frozen base weights did not move
            key = name.removeprefix("base_model.model.").removeprefix("base_model.").replace(".base_layer", "")
            if not p.requires_grad and key in before:
                assert torch.equal(p.detach(), before[key]), name
                checked.add(key)
        assert checked >= {k for k, _ in tiny_bundle.model.named_parameters()}
    assert record.method == method and len(record.train_loss) == 2 and record.eval_loss is not None
    assert tuned.provenance["method"] == method and not tuned.model.training


@pytest.mark.parametrize("method", ["full", "lora"])
def test_training_lowers_the_completion_loss(sharp_bundle, task, method):
    # sharp_bundle: tiny_bundle's random weights (embeddings and blocks) are so small that, behind the final layer
    # norm and the tied embedding, LoRA (which trains neither) cannot move the logits far: on the small world's QA
    # pairs its completion loss levels off about 0.14 nats below the start, however long it trains.
    before = completion_perplexity(sharp_bundle, task.train)
    tuned, record = finetune(sharp_bundle, task.train, method, steps=25, learning_rate=3e-3, **FAST)
    after = completion_perplexity(tuned, task.train)
    assert math.log(after) < math.log(before) - 0.15  # nats per completion token
    assert record.train_loss[-1][1] < record.train_loss[0][1]


def test_run_record_counts_tokens_and_is_saved(tiny_bundle, task, tmp_path):
    data = task.train.select(range(16))  # 2 steps x 8 = every row exactly once
    tuned, record = finetune(tiny_bundle, data, "lora", steps=2, output_dir=tmp_path, **FAST)
    lengths = encode_pairs(tiny_bundle.tokenizer, data)["length"]
    assert record.tokens_seen == sum(lengths)
    assert record.tokens_per_s == pytest.approx(record.tokens_seen / record.train_time_s)
    assert 0 < record.train_time_s <= record.wall_time_s and record.peak_memory_mb >= 0 and record.memory_kind
    assert record.eval_loss is None and record.world_size == 1
    saved = json.loads((tmp_path / "run.json").read_text())
    assert saved["tokens_seen"] == record.tokens_seen and saved["saved_to"] == str(tmp_path / "adapter")
    assert list(record.loss_frame().columns) == ["method", "step", "split", "loss"]
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp")]


def test_adapter_records_a_relative_base_and_loads_after_moving(tiny_bundle, task, tmp_path):
    base_dir = tmp_path / "work" / "models" / "base"
    tiny_bundle.model.save_pretrained(base_dir)
    tiny_bundle.tokenizer.save_pretrained(base_dir)
    base = genlab.load_model(base_dir, device="cpu")
    run = tmp_path / "work" / "runs" / "lora"
    tuned, record = finetune(base, task, "lora", steps=2, output_dir=run, save_steps=2, **FAST)

    for folder in (run / "adapter", run / "checkpoint-2"):
        cfg = json.loads((folder / "adapter_config.json").read_text())
        assert cfg["base_model_name_or_path"] == os.path.join("..", "..", "..", "models", "base")
        for f in folder.iterdir():  # no absolute path anywhere in the adapter's text files
            if f.suffix in (".json", ".md"):
                assert str(tmp_path) not in f.read_text(), f

    moved = tmp_path / "elsewhere"
    shutil.move(tmp_path / "work", moved)
    loaded = load_finetuned(moved / "runs" / "lora" / "adapter", device="cpu")
    torch.testing.assert_close(_logits(loaded), _logits(tuned))
    assert loaded.provenance["finetune"]["method"] == "lora"
    explicit = genlab.load_model(
        moved / "models" / "base", adapter=str(moved / "runs" / "lora" / "adapter"), device="cpu"
    )
    torch.testing.assert_close(_logits(explicit), _logits(tuned))

    merged = merge(loaded)
    assert type(merged.model).__name__ == "GPT2LMHeadModel"
    assert not any("lora" in n for n, _ in merged.model.named_parameters())
    torch.testing.assert_close(_logits(merged), _logits(tuned), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(
        _logits(load_finetuned(moved / "runs" / "lora" / "adapter", merge_adapter=True, device="cpu")),
        _logits(tuned),
        rtol=1e-4,
        atol=1e-5,
    )

    shutil.rmtree(moved / "models")  # base gone: a clear error, not a hub lookup
    with pytest.raises(genlab.ModelLoadError, match="relative to itself"):
        load_finetuned(moved / "runs" / "lora" / "adapter")


def test_base_reference_names_the_default_model_and_hub_ids(tiny_bundle, tmp_path):
    as_default = copy.copy(tiny_bundle)
    as_default.provenance = {"source": "genlab-tiny-world", "local": True, "path": "/somewhere/genlab-tiny-world"}
    assert base_reference(as_default, tmp_path) == "genlab-tiny-world"
    as_hub = copy.copy(tiny_bundle)
    as_hub.provenance = {"source": "gpt2", "local": False}
    assert base_reference(as_hub, tmp_path) == "gpt2"
    assert base_reference(tiny_bundle, tmp_path) is None  # in-memory model: nothing to point at


def test_merge_refuses_what_cannot_be_merged(tiny_bundle, task):
    tuned, _ = finetune(tiny_bundle, task.train, "prompt_tuning", steps=1, **FAST)
    with pytest.raises(ValueError, match="cannot be merged"):
        merge(tuned)
    with pytest.raises(ValueError, match="has none"):
        merge(tiny_bundle)
    with pytest.raises(ValueError, match="already carries a peft adapter"):
        finetune(tuned, task.train, "lora", steps=1, **FAST)


@pytest.mark.parametrize("method", ["prompt_tuning", "prefix_tuning"])
def test_prompt_learning_generation_matches_the_training_forward(tiny_bundle, task, method):
    tuned, _ = finetune(tiny_bundle, task.train, method, steps=2, learning_rate=0.3, **FAST)
    prompts = task.eval["prompt"][:5]
    batched = generate_completions(tuned, prompts, max_new_tokens=4, batch_size=5)
    tok = tuned.tokenizer
    reference = []
    for p in prompts:  # greedy decoding by repeated full forward passes (the path training used), no cache
        ids = tok(tok.bos_token + p, return_tensors="pt", add_special_tokens=False)["input_ids"]
        start = ids.shape[1]
        for _ in range(4):
            with torch.no_grad():
                nxt = tuned.model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[:, -1].argmax(-1)
            ids = torch.cat([ids, nxt[:, None]], 1)
        reference.append(tok.decode(ids[0, start:], skip_special_tokens=True))
    assert batched == reference


class _StopAt(TrainerCallback):
    def __init__(self, step):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= self.step:
            control.should_training_stop = True


@pytest.mark.parametrize("method", ["full", "lora"])
def test_interrupted_and_resumed_run_ends_where_an_uninterrupted_one_does(tiny_bundle, task, tmp_path, method):
    common = {"steps": 6, "save_steps": 3, "learning_rate": 3e-3, "seed": 1, **FAST}
    straight, rec_a = finetune(tiny_bundle, task.train, method, output_dir=tmp_path / "a", **common)
    finetune(tiny_bundle, task.train, method, output_dir=tmp_path / "b", callbacks=[_StopAt(3)], **common)
    assert sorted(p.name for p in (tmp_path / "b").iterdir() if p.name.startswith("checkpoint")) == ["checkpoint-3"]
    resumed, rec_b = finetune(
        tiny_bundle,
        task.train,
        method,
        output_dir=tmp_path / "b",
        resume_from_checkpoint=str(tmp_path / "b" / "checkpoint-3"),
        **common,
    )
    a, b = _state(straight.model), _state(resumed.model)
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)
    assert dict(rec_b.train_loss)[6] == pytest.approx(dict(rec_a.train_loss)[6], rel=1e-5)
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == sorted(
        ["adapter" if method == "lora" else "model", "checkpoint-3", "checkpoint-6", "run.json"]
    )


def test_a_failed_checkpoint_write_leaves_no_checkpoint_behind(tiny_bundle, task, tmp_path, monkeypatch):
    def broken(self, output_dir):
        raise OSError("disk full")

    monkeypatch.setattr(FinetuneTrainer, "_save_rng_state", broken)
    with pytest.raises(OSError, match="disk full"):
        finetune(tiny_bundle, task.train, "full", steps=2, save_steps=2, output_dir=tmp_path, **FAST)
    assert not (tmp_path / "checkpoint-2").exists()  # only the hidden staging folder was written
    assert (tmp_path / ".tmp-checkpoint-2" / "checkpoint-2" / "model.safetensors").is_file()


class _Spy(TrainerCallback):
    def on_train_begin(self, args, state, control, **kwargs):
        self.disable_tqdm = args.disable_tqdm


def test_progress_bar_follows_ci_and_tqdm_disable(tiny_bundle, task, monkeypatch, capsys):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TQDM_DISABLE", "1")
    spy = _Spy()
    finetune(tiny_bundle, task.train, "lora", steps=1, batch_size=8, callbacks=[spy])
    assert spy.disable_tqdm is True
    assert "{'loss'" not in capsys.readouterr().out  # quiet: no printed log dicts either
    monkeypatch.delenv("TQDM_DISABLE")
    finetune(tiny_bundle, task.train, "lora", steps=1, batch_size=8, callbacks=[spy])
    assert spy.disable_tqdm is False


def test_live_loss_plot_records_and_redraws_in_place(tiny_bundle, task, monkeypatch):
    import IPython.display

    shown = []

    class Handle:
        def update(self, fig):
            shown.append(("update", fig))

    def fake_display(fig, display_id=False):
        shown.append(("display", fig))
        return Handle()

    monkeypatch.setattr(IPython.display, "display", fake_display)
    plot = LiveLossPlot(title="QA", min_interval_s=0.0, display=True)
    _, record = finetune(tiny_bundle, task, "lora", steps=4, logging_steps=1, eval_steps=2, callbacks=[plot], **FAST)
    assert plot.train == record.train_loss and plot.eval == record.eval_loss_curve[: len(plot.eval)]
    assert [kind for kind, _ in shown][0] == "display" and {kind for kind, _ in shown[1:]} == {"update"}
    fig = shown[-1][1]
    assert fig.layout.title.text == "QA" and fig.layout.xaxis.title.text == "optimizer step"
    assert list(fig.data[0].y) == [v for _, v in record.train_loss]
    assert LiveLossPlot().display is False  # outside a notebook it only records


def test_adversarial_training_logs_its_components(tiny_bundle, task):
    _, record = finetune(
        tiny_bundle,
        task.train,
        "full",
        steps=2,
        logging_steps=1,
        adversarial=AdversarialConfig("fgm", epsilon=0.5),
        **FAST,
    )
    logs = [h for h in record.history if "loss" in h]
    assert all({"clean_loss", "adv_loss"} <= h.keys() for h in logs)
    for h in logs:
        assert float(h["loss"]) == pytest.approx(float(h["clean_loss"]) + float(h["adv_loss"]), abs=2e-3)
    assert record.settings["adversarial"]["epsilon"] == 0.5


def test_bad_arguments_say_what_to_do(tiny_bundle, task):
    with pytest.raises(ValueError, match="unknown fine-tuning method 'loha'"):
        finetune(tiny_bundle, task, "loha", steps=1)
    with pytest.raises(ValueError, match="needs an output_dir"):
        finetune(tiny_bundle, task, "lora", steps=1, save_steps=1)
    with pytest.raises(ValueError, match="take none|takes none"):
        finetune(tiny_bundle, task, "full", steps=1, method_options={"r": 4})
    with pytest.raises(ValueError, match="positive"):
        finetune(tiny_bundle, task, "full", steps=0)


# --- held-out perplexity of a fine-tuned model (notebook 10's general-quality column) ------------------------------
def test_held_out_perplexity_of_a_prompt_tuned_model_skips_the_virtual_tokens(tiny_bundle, task, small_corpus):
    from genlab.metrics.perplexity import perplexity

    tuned, _ = finetune(tiny_bundle, task.train, "prompt_tuning", steps=2, learning_rate=0.3, **FAST)
    texts = [t[:120] for t in small_corpus.texts("validation")[:3]]  # short: one window each
    tok, nll, n = tuned.tokenizer, 0.0, 0
    for text in texts:  # by hand: BOS + text through the peft forward, drop the 16 virtual positions
        ids = torch.tensor([[tok.bos_token_id] + tok(text, add_special_tokens=False)["input_ids"]])
        with torch.no_grad():
            logits = tuned.model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0, 16:]
        logp = torch.log_softmax(logits[:-1], -1)
        nll -= logp.gather(1, ids[0, 1:, None]).sum().item()
        n += ids.shape[1] - 1
    assert perplexity(tuned, texts).perplexity == pytest.approx(math.exp(nll / n), rel=1e-4)
    assert perplexity(tuned, texts).perplexity != pytest.approx(perplexity(tiny_bundle, texts).perplexity, rel=1e-3)
