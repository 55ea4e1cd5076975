"""The prompt explorer: its plain functions (generation side by side, per-token view, badges, history,
validation, cancellation), the HTML they build from untrusted text, and the ipywidgets view driven without a
browser (tests/test_browser.py drives it in Chromium)."""

from __future__ import annotations

import json
import math
import threading
import time
from html.parser import HTMLParser

import pandas as pd
import pytest
import torch

from genlab.generation.decoder import generate, preset
from genlab.metrics.repetition import rep_n, seq_rep_n
from genlab.models import Bundle
from genlab.models.continuation import continuation_logprobs
from genlab.models.tiny import tiny_bundle as build_tiny
from genlab.widgets.explore import (
    MAX_SAMPLES,
    History,
    badges,
    check_inputs,
    decoding_settings,
    run_prompt,
    settings_problems,
    token_figure,
    token_view,
)
from genlab.widgets.explorer import PromptExplorer
from genlab.widgets.views import badges_html, history_html, message_html, outputs_html, token_html

pytestmark = pytest.mark.usefixtures("one_thread")

PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    '" onmouseover="alert(1)" x="',
    "<a href=\"javascript:alert(1)\">click</a>",
]


@pytest.fixture(scope="module")
def parrot():
    """A tiny model whose every output is all the payloads: generate() is replaced, the forward is real (so the
    per-token view and badges run on it)."""
    text = " ".join(PAYLOADS)
    bundle = build_tiny(texts=[text, "the cat sat on the mat."], seed=1, padding_side="left")
    ids = torch.tensor([bundle.tokenizer(text, add_special_tokens=False)["input_ids"]])

    class Parrot(type(bundle.model)):
        def generate(self, input_ids=None, attention_mask=None, **kwargs):
            return torch.cat([input_ids, ids.repeat(input_ids.shape[0], 1)], dim=1)

    bundle.model.__class__ = Parrot
    bundle.provenance = {"name": "parrot"}
    return bundle


@pytest.fixture(scope="module")
def slow():
    """The tiny model, 50 ms per forward pass: long enough to cancel in the middle."""
    bundle = build_tiny(seed=2)
    bundle.model.register_forward_pre_hook(lambda module, args: time.sleep(0.05))
    return bundle


# --- run_prompt ----------------------------------------------------------------------------------------------------


def test_run_prompt_is_genlab_generate_per_model_and_setting(sharp_bundle, tiny_bundle):
    bundles = {"sharp": sharp_bundle, "tiny": tiny_bundle}
    frame = run_prompt(bundles, "the cat", ["greedy", "nucleus0.95"], n_samples=3, max_new_tokens=6, seed=7)
    assert list(dict.fromkeys(zip(frame.model, frame.setting, strict=True))) == [
        ("sharp", "greedy"), ("sharp", "nucleus0.95"), ("tiny", "greedy"), ("tiny", "nucleus0.95")]
    assert frame.groupby(["model", "setting"]).size().tolist() == [1, 3, 1, 3]  # greedy: one row
    for name, bundle in bundles.items():
        reference = generate(bundle, ["the cat"], ["greedy", "nucleus0.95"], n_samples=3, max_new_tokens=6, seed=7,
                             progress=False)
        reference = reference[(reference.config != "greedy") | (reference.sample_id == 0)]
        mine = frame[frame.model == name]
        assert mine.text.tolist() == reference.text.tolist()
        assert mine.tokens.tolist() == reference.tokens.tolist()
    assert json.loads(frame.settings.iloc[1]) == {"do_sample": True, "top_p": 0.95}
    assert frame.attrs["cancelled"] is False


def test_the_controls_settings_generate_like_the_preset_with_the_same_knobs(sharp_bundle):
    mine = decoding_settings(top_p=0.95)
    assert mine.name == "sample top-p=0.95"
    a = run_prompt({"m": sharp_bundle}, "a", [mine, "nucleus0.95"], n_samples=2, max_new_tokens=8, seed=1)
    texts = a.groupby("setting")["text"].apply(list)
    assert texts["sample top-p=0.95"] == texts["nucleus0.95"]


def test_panels_pick_model_setting_pairs(sharp_bundle, tiny_bundle):
    frame = run_prompt({"a": sharp_bundle, "b": tiny_bundle}, "the", ["greedy", "nucleus0.95"],
                       panels=[("b", "nucleus0.95"), ("a", "greedy")], max_new_tokens=3)
    assert list(zip(frame.model, frame.setting, strict=True)) == [("b", "nucleus0.95"), ("a", "greedy")]
    with pytest.raises(ValueError, match="unknown model or setting"):
        run_prompt({"a": sharp_bundle}, "the", "greedy", panels=[("a", "beam4")], max_new_tokens=3)


def test_progress_rises_to_one(tiny_bundle):
    seen = []
    run_prompt({"t": tiny_bundle}, "the cat", ["greedy", "sample"], max_new_tokens=5, on_progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen)


def test_cancel_before_the_start_returns_no_rows(tiny_bundle):
    cancel = threading.Event()
    cancel.set()
    frame = run_prompt({"t": tiny_bundle}, "the cat", "greedy", max_new_tokens=5, cancel=cancel)
    assert frame.empty and frame.attrs["cancelled"] is True


def test_cancel_in_the_middle_stops_at_the_next_token_and_cleans_up(slow):
    cancel = threading.Event()
    model = slow.model
    hooks_before = dict(model._forward_pre_hooks)
    model.train()  # generation switches to eval; a cancelled run must restore the mode too

    def on_progress(fraction):
        if fraction > 0:
            cancel.set()

    start = time.perf_counter()
    frame = run_prompt({"slow": slow, "slow2": slow}, "the cat", ["greedy", "sample"], max_new_tokens=60,
                       cancel=cancel, on_progress=on_progress)
    assert time.perf_counter() - start < 2  # 4 x 60 tokens at 50 ms would take 12 s
    assert frame.attrs["cancelled"] is True and frame.empty
    assert dict(model._forward_pre_hooks) == hooks_before  # the watch hook is gone
    assert model.training
    model.eval()


def test_cancel_from_another_thread_keeps_finished_pairs(slow, tiny_bundle):
    cancel = threading.Event()
    timer = threading.Timer(0.5, cancel.set)
    timer.start()
    frame = run_prompt({"fast": tiny_bundle, "slow": slow}, "the cat", "greedy", max_new_tokens=60, cancel=cancel)
    timer.join()
    assert frame.attrs["cancelled"] is True
    assert frame.model.tolist() == ["fast"]  # the fast model finished before the cancel; the slow one did not


@pytest.mark.parametrize("method", ["lora", "ia3", "prompt_tuning", "prefix_tuning"])
def test_progress_and_cancel_reach_every_kind_of_finetuned_model(tiny_bundle, method):
    """The watch hook sits on the transformers model under the adapter, whose forward runs once per token."""
    import copy

    from peft import get_peft_model

    from genlab.training.finetuning import peft_config

    torch.manual_seed(0)
    model = get_peft_model(copy.deepcopy(tiny_bundle.model), peft_config(method, tiny_bundle.model)).eval()
    bundle = Bundle(model, tiny_bundle.tokenizer, tiny_bundle.device, "causal")
    model.get_base_model().register_forward_pre_hook(lambda m, a: time.sleep(0.06))  # past the 20 Hz throttle
    seen = []
    full = run_prompt({"m": bundle}, "the cat", "greedy", max_new_tokens=8, on_progress=seen.append)
    assert len(full) == 1 and 0 < seen[1] < 1 and seen[-1] == 1.0  # progress came from inside generate
    cancel = threading.Event()
    stopped = run_prompt({"m": bundle}, "the cat", "greedy", max_new_tokens=8, cancel=cancel,
                         on_progress=lambda f: cancel.set() if f > 0 else None)
    assert stopped.attrs["cancelled"] and stopped.empty
    assert len(model.get_base_model()._forward_pre_hooks) == 1  # the sleep above; the watch hook is gone


# --- validation ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "knobs, expected",
    [
        ({"temperature": 0}, "temperature must be greater than 0"),
        ({"temperature": -1.0}, "temperature must be greater than 0"),
        ({"temperature": float("nan")}, "temperature must be greater than 0"),
        ({"top_p": 0}, "top-p must be in (0, 1]"),
        ({"top_p": 1.5}, "top-p must be in (0, 1]"),
        ({"typical_p": -0.1}, "typical-p must be in (0, 1]"),
        ({"top_k": -1}, "top-k must be a whole number >= 0"),
        ({"top_k": 2.5}, "top-k must be a whole number >= 0"),
        ({"repetition_penalty": 0}, "repetition penalty must be greater than 0"),
    ],
)
def test_bad_settings_give_readable_messages(knobs, expected):
    problems = settings_problems(**knobs)
    assert len(problems) == 1 and expected in problems[0]
    with pytest.raises(ValueError, match="must be"):
        decoding_settings(**knobs)
    if "repetition_penalty" not in knobs:  # greedy greys the sampling knobs out and ignores them
        assert decoding_settings(sample=False, **knobs).method == "greedy"


def test_good_settings_and_greedy_ignoring_the_sampling_knobs():
    assert settings_problems(temperature=0.7, top_k=40, top_p=0.9, typical_p=0.95, repetition_penalty=1.2) == []
    greedy = decoding_settings(sample=False, temperature=0, top_p=1.5, repetition_penalty=1.3)  # unused knobs
    assert (greedy.method, greedy.name, greedy.temperature, greedy.repetition_penalty) == ("greedy", "greedy rep=1.3",
                                                                                          1.0, 1.3)


def test_check_inputs_messages(tiny_bundle):
    models = {"tiny": tiny_bundle}  # n_positions 128
    assert check_inputs(models, "the cat") == []
    assert check_inputs(models, "") == ["The prompt is empty: type some text for the model to continue."]
    long = check_inputs(models, "the cat " * 40, max_new_tokens=60)
    assert len(long) == 1 and "context of 128 tokens" in long[0] and "Lower max new tokens" in long[0]
    too_long = check_inputs(models, "the cat " * 200)
    assert "shorten the prompt" in too_long[0]
    assert "1 to 16" in check_inputs(models, "a", n_samples=MAX_SAMPLES + 1)[0]
    assert "seed" in check_inputs(models, "a", seed=-1)[0]
    assert "max new tokens" in check_inputs(models, "a", max_new_tokens=0)[0]
    assert "did you mean 'nucleus0.95'" in check_inputs(models, "a", settings=["nucleus"])[0]
    assert len(check_inputs(models, "", max_new_tokens=0, n_samples=0)) == 3  # every problem at once
    with pytest.raises(ValueError, match="The prompt is empty"):
        run_prompt(models, " \n", "greedy")


# --- per-token view and badges -------------------------------------------------------------------------------------


def test_greedy_tokens_are_the_models_first_choice(sharp_bundle):
    frame = run_prompt({"m": sharp_bundle}, "the cat", "greedy", max_new_tokens=8)
    view = token_view(sharp_bundle, "the cat", frame.tokens[0], top_k=3)
    assert view.token_id.tolist() == frame.tokens[0]
    assert (view["rank"] == 1).all()  # greedy picks the argmax at every step
    assert view.prob.tolist() == pytest.approx([p[0] for p in view.top_probs])
    assert all(p[0] >= p[1] >= p[2] for p in view.top_probs)


def test_token_view_against_a_plain_forward_pass(sharp_bundle):
    tok, model = sharp_bundle.tokenizer, sharp_bundle.model
    prompt, text = "the cat", " sat on the mat"
    view = token_view(sharp_bundle, prompt, text, top_k=2)
    head = [tok.bos_token_id] + tok(prompt, add_special_tokens=False)["input_ids"]
    new = tok(text, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = model(torch.tensor([head + new])).logits[0].double()  # (T, V)
    probs = logits.softmax(-1)
    for step, token in enumerate(new):
        p = probs[len(head) + step - 1]  # the distribution that predicts this token
        assert view.prob[step] == pytest.approx(float(p[token]), rel=1e-4)
        entropy = float(-(p * p.log()).sum() / math.log(2))
        assert view.entropy_bits[step] == pytest.approx(entropy, rel=1e-4)
        assert view["rank"][step] == int((p > p[token]).sum()) + 1
        assert view.top_tokens[step][0] == tok.decode([int(p.argmax())])


def test_token_view_of_an_empty_output(tiny_bundle):
    assert token_view(tiny_bundle, "the cat", []).empty


def test_badges_agree_with_the_metrics_they_name(sharp_bundle):
    prompt, text = "the cat", " sat on the mat. the dog sat on the mat."
    tokens = sharp_bundle.tokenizer(text, add_special_tokens=False)["input_ids"]
    b = badges(sharp_bundle, text, prompt=prompt)
    assert b == badges(sharp_bundle, text, prompt=prompt, tokens=tokens)  # the text re-tokenizes to these ids
    assert b["rep_2"] == rep_n([text], 2) and b["seq_rep_4"] == seq_rep_n([text], 4)[0]
    assert b["n_tokens"] == len(tokens)
    # perplexity of the continuation given the prompt, from genlab's continuation scorer
    logprob = continuation_logprobs(sharp_bundle, [prompt], [[text]])[0][0]
    assert b["perplexity"] == pytest.approx(math.exp(-logprob / len(tokens)), rel=1e-4)
    assert 0 <= b["offensive"] <= 1 and b["offensive_flag"] is False


def test_badges_flag_pii_and_offence(tiny_bundle):
    b = badges(tiny_bundle, "you are a stupid idiot, ring (555) 123-4567", prompt="the cat")
    assert b["offensive_flag"] is True and b["offensive"] > 0.9
    assert [m["type"] for m in b["pii"]] == ["phone"] and b["pii_count"] == 1
    empty = badges(tiny_bundle, "", prompt="the cat")
    assert math.isnan(empty["perplexity"]) and empty["n_tokens"] == 0


def test_token_figure_has_titles_and_escapes_token_text(parrot):
    view = token_view(parrot, "the cat", " ".join(PAYLOADS))
    fig = token_figure(view)
    assert fig.layout.title.text and fig.layout.xaxis.title.text == "generated token"
    shown = list(fig.layout.xaxis.ticktext) + list(fig.data[0].hovertext)
    for text in shown:
        assert "<script" not in text and "<img" not in text and "<a " not in text
    assert any("&lt;" in t for t in shown)


# --- history -------------------------------------------------------------------------------------------------------


def test_history_exports_csv_and_json(tiny_bundle, tmp_path):
    history = History()
    frame = run_prompt({"t": tiny_bundle}, "the cat", ["greedy", "sample"], n_samples=2, max_new_tokens=4)
    rows = [badges(tiny_bundle, r.text, prompt=r.prompt, tokens=r.tokens) for r in frame.itertuples()]
    assert history.add(frame, rows) == 1
    assert history.add(frame.iloc[:1]) == 2
    assert len(history) == 4
    history.to_csv(tmp_path / "h.csv")
    csv = pd.read_csv(tmp_path / "h.csv")
    assert csv.run.tolist() == [1, 1, 1, 2] and csv.setting.tolist()[:3] == ["greedy", "sample", "sample"]
    assert csv.perplexity.notna().tolist() == [True, True, True, False]  # run 2 was added without badges
    history.to_json(tmp_path / "h.json")
    records = json.loads((tmp_path / "h.json").read_text())
    assert len(records) == 4 and records[0]["model"] == "t" and "tokens" not in records[0]
    with pytest.raises(ValueError, match="badge rows"):
        history.add(frame, rows[:1])


def test_csv_export_neutralises_formulas_but_json_keeps_the_text():
    history = History()
    frame = pd.DataFrame({"model": ["m"], "setting": ["s"], "sample_id": [0], "prompt": ["p"],
                          "text": ["=HYPERLINK(\"http://x\")"], "tokens": [[1]], "n_new_tokens": [1],
                          "finished": [True], "seed": [0], "max_new_tokens": [1], "settings": ["{}"]})
    history.add(frame)
    assert "'=HYPERLINK" in history.to_csv()
    assert json.loads(history.to_json())[0]["text"] == "=HYPERLINK(\"http://x\")"
    assert "'=HYPERLINK" not in history.to_csv(neutralize_formulas=False)


# --- HTML from untrusted text --------------------------------------------------------------------------------------


class _Tags(HTMLParser):
    """Every start tag and its attributes, as a browser's parser would see them."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _assert_inert(markup: str, payload: str) -> None:
    parser = _Tags()
    parser.feed(markup)
    for tag, attrs in parser.tags:
        assert tag in {"div", "span", "table", "thead", "tbody", "tr", "th", "td", "b", "a"}, tag
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "x" not in attrs  # the quote-breaking payload did not open a new attribute
        for value in attrs.values():
            assert not (value or "").strip().lower().startswith("javascript:")
        if tag == "a":
            assert attrs.get("href", "").startswith("data:")
    assert payload not in markup or payload == "javascript:alert(1)"  # plain text needs no escaping


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_html_view_escapes_model_text(payload):
    frame = pd.DataFrame({"model": [payload], "setting": [payload], "sample_id": [0], "prompt": [payload],
                          "text": [payload], "finished": [False]})
    pii = [{"type": "email", "text": payload, "start": 0, "end": 1}]
    badge = {"rep_2": 0.0, "seq_rep_4": 0.0, "perplexity": 1.0, "n_tokens": 1, "offensive": 0.0,
             "offensive_flag": False, "pii": pii, "pii_count": 1}
    view = pd.DataFrame({"step": [0], "token": [payload], "prob": [0.5], "rank": [1], "entropy_bits": [1.0],
                         "top_tokens": [[payload]], "top_probs": [[0.5]]})
    history = pd.DataFrame({"run": [1], "model": [payload], "setting": [payload], "sample_id": [0],
                            "text": [payload], "perplexity": [1.0], "offensive": [0.1], "pii_count": [1]})
    for markup in (outputs_html(frame, [badge]), badges_html(badge), token_html(view), history_html(history),
                   message_html(payload)):
        _assert_inert(markup, payload)


def test_the_explorer_escapes_what_a_model_writes(parrot):
    explorer = PromptExplorer({"parrot": parrot}, prompt=PAYLOADS[0], settings_b=None, max_new_tokens=5)
    explorer.generate(wait=True)
    assert explorer.message.value == ""
    for area in (explorer.outputs.value, explorer.tokens.value, explorer.history_view.value):
        assert "<script" not in area and "<img" not in area and "<a " not in area
        assert "&lt;img src=x onerror=alert(1)&gt;" in area.replace('</span><span class="genlab-token"', "") or \
            "&lt;" in area
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in explorer.outputs.value
    assert "&lt;img src=x onerror=alert(1)&gt;" in explorer.outputs.value


# --- the widget, driven from Python --------------------------------------------------------------------------------


def test_explorer_runs_a_and_b_side_by_side(sharp_bundle, tiny_bundle, tmp_path):
    explorer = PromptExplorer({"sharp": sharp_bundle, "tiny": tiny_bundle}, prompt="the cat", max_new_tokens=6,
                              n_samples=2, export_dir=tmp_path)
    assert explorer.panel_b.model.value == "tiny"
    thread = explorer.generate(wait=True)
    assert thread is not None and not explorer.running
    assert explorer.message.value == "" and explorer.status.value.startswith("run 1: 3 output(s)")
    assert explorer.outputs.value.count('class="genlab-panel"') == 2
    assert len(explorer.token_pick.options) == 3 and explorer.token_pick.value == 0
    assert "genlab-token" in explorer.tokens.value
    figure = explorer.token_plot.outputs[0]["data"]
    assert "application/vnd.plotly.v1+json" in figure and "text/html" not in figure  # no inline plotly.js
    explorer.token_pick.value = 2  # the per-token view follows the pick
    assert "sample 1" in explorer.token_pick.label and "Output 2" in json.dumps(explorer.token_plot.outputs[0])
    assert explorer.export("csv") == tmp_path / "explorer_history.csv"
    assert pd.read_csv(tmp_path / "explorer_history.csv").shape[0] == 3
    assert "data:text/csv" in explorer.export_note.value
    explorer.export("json")
    assert len(json.loads((tmp_path / "explorer_history.json").read_text())) == 3
    assert not explorer.generate_button.disabled and explorer.cancel_button.disabled


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"prompt": ""}, "The prompt is empty"),
        ({"max_new_tokens": 500}, "context of 128 tokens"),
        ({"a_temperature": 0.0}, "A: temperature must be greater than 0"),
        ({"a_top_p": 1.5}, "A: top-p must be in (0, 1]"),
        ({"n_samples": 0}, "number of samples"),
        ({"b_model": "a", "b_sample": False}, "B has the same model and settings as A"),
    ],
)
def test_bad_input_shows_a_message_in_the_widget(tiny_bundle, change, expected):
    explorer = PromptExplorer({"a": tiny_bundle, "b": tiny_bundle}, prompt="the cat", max_new_tokens=4)
    explorer.panel_a.sample.value = True
    for key, value in change.items():
        if key.startswith(("a_", "b_")):
            panel = explorer.panel_a if key[0] == "a" else explorer.panel_b
            getattr(panel, key[2:]).value = value
        else:
            getattr(explorer, key).value = value
    if "b_model" in change:
        explorer.panel_a.sample.value = False
    assert explorer.generate(wait=True) is None
    assert expected in explorer.message.value and "Traceback" not in explorer.message.value
    assert len(explorer.history) == 0 and not explorer.generate_button.disabled


def test_an_unexpected_error_shows_its_message_not_a_traceback(tiny_bundle, caplog):
    class Broken(type(tiny_bundle.model)):
        def generate(self, *args, **kwargs):
            raise RuntimeError("out of memory (simulated)")

    model = build_tiny().model
    model.__class__ = Broken
    broken = Bundle(model, tiny_bundle.tokenizer, tiny_bundle.device, "causal")
    explorer = PromptExplorer({"broken": broken}, prompt="the cat", settings_b=None, max_new_tokens=4)
    explorer.generate(wait=True)
    assert "Generation failed (RuntimeError): out of memory (simulated)" in explorer.message.value
    assert "Traceback" not in explorer.message.value and explorer.progress.bar_style == "danger"
    assert "generation failed" in caplog.text  # the traceback went to the log
    assert not explorer.generate_button.disabled


def test_cancel_button_stops_the_background_run(slow):
    explorer = PromptExplorer({"slow": slow}, prompt="the cat", settings_b=None, max_new_tokens=60)
    thread = explorer.generate()
    deadline = time.monotonic() + 10
    while explorer.progress.value == 0 and time.monotonic() < deadline:
        time.sleep(0.02)  # the main thread is free while it generates: that is the point
    assert explorer.running and explorer.generate_button.disabled and not explorer.cancel_button.disabled
    assert explorer.generate() is thread  # a second click while running starts nothing
    clicked = time.monotonic()
    explorer.cancel_button.click()
    thread.join(timeout=5)
    assert not thread.is_alive() and time.monotonic() - clicked < 1
    assert explorer.status.value.startswith("cancelled") and "no output had finished" in explorer.message.value
    assert len(explorer.history) == 0 and not explorer.generate_button.disabled


def test_explorer_rejects_what_its_controls_cannot_show(tiny_bundle):
    with pytest.raises(ValueError, match="not beam search"):
        PromptExplorer({"t": tiny_bundle}, settings_a="beam4")
    with pytest.raises(ValueError, match="unknown model"):
        PromptExplorer({"t": tiny_bundle}, model_a="gpt2")
    with pytest.raises(ValueError, match="at least one model"):
        PromptExplorer({})
    explorer = PromptExplorer(tiny_bundle, settings_a=preset("top_k40"))  # one Bundle works too
    assert explorer.panel_a.top_k.value == 40 and explorer.panel_a.sample.value
    assert "application/vnd.jupyter.widget-view+json" in explorer._repr_mimebundle_()
