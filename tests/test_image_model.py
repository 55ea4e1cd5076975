"""The tiny text-to-image model: tokenizer, pipeline, training (with exact resume), generation grid, loading, study."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from genlab.generation.images import generate_grid
from genlab.models.common import ModelLoadError
from genlab.models.diffusion import (
    PAD,
    UNK,
    TinyDiffusionConfig,
    TinyTextToImagePipeline,
    build_caption_tokenizer,
    build_pipeline,
    drawn_world_vocabulary,
    encode_captions,
    images_to_model,
    load_image_pipeline,
    model_to_unit,
)
from genlab.training.diffusion import cosine_with_warmup, latest_checkpoint, train_text_to_image
from genlab.worlds.drawn import build_drawn_world

PROMPTS = [
    "a small red circle at the top left on a dark background",
    "light background, a large blue square at the centre",
    "two small green triangles on a light background",
]


@pytest.fixture(scope="module")
def world():
    return build_drawn_world(24, 8, seed=0, duplicates={})


@pytest.fixture(scope="module")
def pipe():
    return build_pipeline(TinyDiffusionConfig.tiny(), seed=0)


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# --- tokenizer --------------------------------------------------------------------------------------------------


def test_tokenizer_covers_every_caption_and_round_trips(tmp_path):
    tok = build_caption_tokenizer()
    w = build_drawn_world(300, 200, seed=1)  # both splits: held-out templates and pairs included
    ids = encode_captions(tok, list(w.table.caption))
    assert ids.shape == (len(w), tok.model_max_length)
    assert not (ids == tok.unk_token_id).any(), "a drawn-world caption holds a word outside the vocabulary"
    # decoding the non-padding ids gives back the caption's words and punctuation, in order
    for caption, row in zip(w.table.caption[:50], ids[:50], strict=True):
        tokens = [t for t in tok.convert_ids_to_tokens(row.tolist()) if t != PAD]
        assert " ".join(tokens) == caption.replace(",", " ,").replace(";", " ;")
    tok.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "tokenizer.json").read_text())  # plain JSON, the vocabulary inside
    assert saved["model"]["vocab"][UNK] == 1 and saved["model"]["vocab"][PAD] == 0
    from transformers import PreTrainedTokenizerFast

    back = PreTrainedTokenizerFast.from_pretrained(tmp_path)
    assert torch.equal(encode_captions(back, list(w.table.caption)), ids)
    assert back.model_max_length == tok.model_max_length


def test_unknown_words_become_unk_and_vocabulary_is_the_templates():
    tok = build_caption_tokenizer()
    ids = encode_captions(tok, ["A Red hexagon; zebra"])[0].tolist()
    tokens = tok.convert_ids_to_tokens(ids)
    assert tokens[:5] == ["a", "red", UNK, ";", UNK] and set(tokens[5:]) == {PAD}
    assert encode_captions(tok, [""])[0].eq(tok.pad_token_id).all()  # the empty caption: all padding
    vocab = drawn_world_vocabulary()
    for word in ("canvas", "sitting", "placed", "exactly", "showing", "crosses", "purple", "below"):
        assert word in vocab
    long = " ".join(["red"] * 100)
    assert encode_captions(tok, [long]).shape[1] == tok.model_max_length  # cut, never longer than the encoder
    with pytest.raises(ValueError, match="lower-case"):
        build_caption_tokenizer(["Red"])


# --- pipeline ---------------------------------------------------------------------------------------------------


def test_pixel_unshuffle_round_trips_the_pixels(world):
    x = images_to_model(world.images)
    assert tuple(x.shape) == (len(world), 12, 16, 16) and x.min() >= -1 and x.max() <= 1
    back = np.round(model_to_unit(x).numpy() * 255).astype(np.uint8)
    assert (back == world.images).all()
    with pytest.raises(ValueError, match="uint8"):
        images_to_model(world.images.astype(np.float32))


def test_pipeline_generates_uint8_reproducibly_per_seed(pipe):
    a = pipe(PROMPTS, seeds=[0, 1, 2], num_inference_steps=3).images
    assert a.shape == (3, 32, 32, 3) and a.dtype == np.uint8
    b = pipe(PROMPTS, generator=[torch.Generator().manual_seed(s) for s in (0, 1, 2)], num_inference_steps=3).images
    assert (a == b).all()  # seeds= is one generator per picture
    c = pipe([PROMPTS[0]] * 2, seeds=[0, 5], num_inference_steps=3).images
    assert (c[0] == a[0]).all() and not (c[1] == c[0]).all()  # the seed, not the position, decides the noise
    pil = pipe(PROMPTS[:1], seeds=[0], num_inference_steps=3, output_type="pil").images
    assert (np.asarray(pil[0]) == a[0]).all()
    with pytest.raises(ValueError, match="one seed per prompt"):
        pipe(PROMPTS, seeds=[0])


def test_unknown_words_in_a_prompt_warn_once_and_a_prompt_of_only_unknown_words_raises(pipe):
    import warnings

    assert pipe.unknown_words(PROMPTS + ["", "A Red HEXAGON; zebra"]) == [[], [], [], [], ["HEXAGON", "zebra"]]
    some = [PROMPTS[0], "a red hexagon on a dark background", "two zebras, a blue square"]
    with pytest.warns(UserWarning, match="2 of 3 prompts") as caught:
        images = pipe(some, seeds=[0, 1, 2], num_inference_steps=2).images
    assert len(caught) == 1 and caught[0].filename == __file__  # once per call, pointing at the caller
    message = str(caught[0].message)
    assert "'hexagon', 'zebras'" in message and f"knows {len(drawn_world_vocabulary())} words" in message
    assert (images[0] == pipe(PROMPTS[:1], seeds=[0], num_inference_steps=2).images[0]).all()  # still drawn
    with pytest.raises(ValueError, match=r"prompt 1 \('un gato rojo'\) is made only of .* \(so are prompts 2\)"):
        pipe([PROMPTS[0], "un gato rojo", "Zebra!"], seeds=[0, 1, 2], num_inference_steps=2)
    with warnings.catch_warnings():  # known words, and the empty prompt (the unconditional one), draw silently
        warnings.simplefilter("error")
        pipe(PROMPTS + [""], seeds=[0, 1, 2, 3], num_inference_steps=2)


def test_guidance_one_is_the_conditional_model_alone(pipe):
    """guidance 1 skips the unconditional pass; the mixed prediction uncond + g (cond - uncond) at g = 1 is cond, so
    running both passes with a guidance a hair away from 1 must give nearly the same floats."""
    one = pipe(PROMPTS, seeds=[0, 1, 2], num_inference_steps=3, guidance_scale=1.0, output_type="np").images
    near = pipe(PROMPTS, seeds=[0, 1, 2], num_inference_steps=3, guidance_scale=1.0 + 1e-6, output_type="np").images
    far = pipe(PROMPTS, seeds=[0, 1, 2], num_inference_steps=3, guidance_scale=3.0, output_type="np").images
    assert np.abs(one - near).max() < 1e-4 < np.abs(one - far).max()


def test_grid_is_batch_size_invariant_and_each_row_reproducible(pipe):
    kwargs = {"seeds": [0, 7], "steps": (2, 3), "guidance": (1.0, 2.0)}
    ref, table = generate_grid(pipe, PROMPTS, batch_size=64, **kwargs)
    assert ref.shape == (3 * 2 * 2 * 2, 32, 32, 3) and ref.dtype == np.uint8
    assert list(table.columns) == ["image", "prompt_index", "prompt", "seed", "steps", "guidance"]
    assert table.groupby(["prompt", "seed", "steps", "guidance"]).size().eq(1).all()
    for batch_size in (1, 5):
        images, other = generate_grid(pipe, PROMPTS, batch_size=batch_size, **kwargs)
        assert other.equals(table) and (images == ref).all()
    row = table.iloc[13]  # any row, regenerated on its own
    alone = pipe([row.prompt], seeds=[row.seed], num_inference_steps=row.steps, guidance_scale=row.guidance).images
    assert (alone[0] == ref[row.image]).all()
    with pytest.raises(ValueError, match="seeds"):
        generate_grid(pipe, PROMPTS, seeds=3)


# --- training ---------------------------------------------------------------------------------------------------


def test_sampler_starts_from_pure_noise(pipe):
    # "trailing" spacing (Lin et al. 2024): the first of k steps is the last training timestep, whatever k is
    for k in (1, 5, 20):
        pipe.scheduler.set_timesteps(k)
        assert int(pipe.scheduler.timesteps[0]) == pipe.scheduler.config.num_train_timesteps - 1
    assert float(pipe.scheduler.alphas_cumprod[-1]) < 1e-6  # where the cosine schedule keeps no signal


def test_cosine_schedule_matches_transformers():
    from transformers import get_cosine_schedule_with_warmup

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    ref = get_cosine_schedule_with_warmup(opt, num_warmup_steps=7, num_training_steps=50)
    for step in range(50):
        assert cosine_with_warmup(step, 7, 50) == pytest.approx(ref.get_last_lr()[0], abs=1e-12)
        opt.step()
        ref.step()


def test_training_lowers_the_loss(world):
    calls = []
    pipe, record = train_text_to_image(TinyDiffusionConfig.tiny(), world.images, list(world.table.caption), steps=40,
                                       batch_size=8, learning_rate=3e-3, seed=0, logging_steps=10, progress=False,
                                       callbacks=[lambda step, logs: calls.append(step)])  # fmt: skip
    losses = record["losses"]
    assert len(losses) == 40 and all(np.isfinite(losses))
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:5])  # measured: about 0.6 -> 0.12
    assert calls == [10, 20, 30, 40] and [h["step"] for h in record["history"]] == calls
    assert record["n_images"] == len(world) and record["resumed_from"] is None
    assert not pipe.unet.training  # returned ready to sample


def test_training_feeds_live_loss_plot(world):
    from genlab.training.live_loss import LiveLossPlot

    plot = LiveLossPlot(display=False)
    _, record = train_text_to_image(TinyDiffusionConfig.tiny(), world.images[:8], list(world.table.caption[:8]),
                                    steps=4, batch_size=4, seed=0, logging_steps=2, progress=False,
                                    callbacks=[plot])  # fmt: skip
    assert plot.train == [(h["step"], h["loss"]) for h in record["history"]] and len(plot.train) == 2


def test_resume_continues_the_same_loss_trajectory(world, tmp_path):
    args = (TinyDiffusionConfig.tiny(), world.images, list(world.table.caption))
    kwargs = {
        "steps": 8,
        "batch_size": 5,
        "seed": 3,
        "progress": False,
        "save_steps": 3,
        "save_total_limit": 3,
    }  # batches of 5 from 32 pictures cross epochs
    full_pipe, full = train_text_to_image(*args, output_dir=tmp_path / "a", **kwargs)
    train_text_to_image(*args, output_dir=tmp_path / "b", **kwargs)
    # interrupt after step 3: drop the later checkpoints, then resume from the newest that is left
    for later in ("checkpoint-6", "checkpoint-8"):
        shutil.rmtree(tmp_path / "b" / later)
    assert latest_checkpoint(tmp_path / "b").name == "checkpoint-3"
    files = {p.name for p in (tmp_path / "b" / "checkpoint-3").iterdir()}
    assert files == {"model.safetensors", "optimizer.safetensors", "trainer_state.json"}  # no pickle
    pipe, resumed = train_text_to_image(*args, output_dir=tmp_path / "b", resume_from_checkpoint=True, **kwargs)
    assert resumed["resumed_from"].endswith("checkpoint-3") and resumed["steps_trained_now"] == 5
    assert resumed["losses"] == full["losses"]  # bit for bit
    assert _same_weights(pipe.unet, full_pipe.unet) and _same_weights(pipe.text_encoder, full_pipe.text_encoder)
    with pytest.raises(ValueError, match="another run"):  # a checkpoint of other settings is refused
        train_text_to_image(*args, output_dir=tmp_path / "b", resume_from_checkpoint=True, **(kwargs | {"seed": 4}))


def test_training_rejects_bad_input(world):
    with pytest.raises(ValueError, match="one caption per image"):
        train_text_to_image(None, world.images, ["a"], steps=1)
    with pytest.raises(ValueError, match="uint8"):
        train_text_to_image(None, world.images.astype(float), list(world.table.caption), steps=1)


# --- saving and loading -----------------------------------------------------------------------------------------


def test_save_load_round_trips_bit_exactly_with_safetensors_only(pipe, tmp_path):
    path = pipe.save_pretrained(tmp_path / "p")
    files = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()}
    assert {"model_index.json", "unet/diffusion_pytorch_model.safetensors",
            "text_encoder/diffusion_pytorch_model.safetensors", "tokenizer/tokenizer.json"} <= files  # fmt: skip
    assert not [f for f in files if f.endswith((".bin", ".pt", ".pth", ".pkl", ".ckpt", ".py"))]
    back = load_image_pipeline(path, device="cpu")
    assert isinstance(back, TinyTextToImagePipeline)
    assert _same_weights(back.unet, pipe.unet) and _same_weights(back.text_encoder, pipe.text_encoder)
    public = [{k: v for k, v in dict(p.scheduler.config).items() if not k.startswith("_")} for p in (pipe, back)]
    assert public[0] == public[1] and public[1]["prediction_type"] == "sample"
    a = pipe(PROMPTS, seeds=[0, 1, 2], num_inference_steps=3).images
    assert (back(PROMPTS, seeds=[0, 1, 2], num_inference_steps=3).images == a).all()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        pipe.save_pretrained(path)
    pipe.save_pretrained(path, overwrite=True)


def test_load_image_pipeline_refuses_remote_code(tmp_path):
    marker = tmp_path / "ran"
    folder = tmp_path / "evil"
    folder.mkdir()
    (folder / "evil_pipeline.py").write_text(f"open({str(marker)!r}, 'w').write('code ran')\n")
    (folder / "model_index.json").write_text(json.dumps({"_class_name": ["evil_pipeline", "EvilPipeline"],
                                                         "unet": ["diffusers", "UNet2DConditionModel"]}))  # fmt: skip
    with pytest.raises(ModelLoadError, match="trust_remote_code=True"):
        load_image_pipeline(folder)
    other = tmp_path / "other"
    other.mkdir()
    (other / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline",
                                                        "unet": ["some_module", "Unet"]}))  # fmt: skip
    with pytest.raises(ModelLoadError, match="some_module"):
        load_image_pipeline(other)
    assert not marker.exists()
    with pytest.raises(ModelLoadError, match="offline"):  # a hub id, while genlab is offline
        load_image_pipeline("someone/some-diffusion-model")


def test_load_image_pipeline_loads_other_diffusers_pipelines_from_safetensors_only(tmp_path):
    from diffusers import DDPMPipeline, DDPMScheduler, UNet2DModel

    torch.manual_seed(0)
    blocks = {"down_block_types": ("DownBlock2D",) * 2, "up_block_types": ("UpBlock2D",) * 2, "norm_num_groups": 4}
    unet = UNet2DModel(sample_size=8, in_channels=3, out_channels=3, block_out_channels=(8, 16), **blocks)
    other = DDPMPipeline(unet=unet, scheduler=DDPMScheduler(num_train_timesteps=10))
    other.save_pretrained(tmp_path / "safe")
    back = load_image_pipeline(tmp_path / "safe", device="cpu")
    assert type(back).__name__ == "DDPMPipeline" and _same_weights(back.unet, unet)
    other.save_pretrained(tmp_path / "pickled", safe_serialization=False)
    assert (tmp_path / "pickled" / "unet" / "diffusion_pytorch_model.bin").is_file()
    with pytest.raises(ModelLoadError, match="could not load"):
        load_image_pipeline(tmp_path / "pickled", device="cpu")
    index = json.loads((tmp_path / "safe" / "model_index.json").read_text())
    index["safety_checker"] = ["stable_diffusion", "StableDiffusionSafetyChecker"]  # a module inside diffusers
    (tmp_path / "safe" / "model_index.json").write_text(json.dumps(index))
    assert type(load_image_pipeline(tmp_path / "safe", device="cpu")).__name__ == "DDPMPipeline"  # not refused


def test_grid_drives_any_diffusers_style_pipeline():
    """A stand-in with the diffusers text-to-image call (prompt=, generator= list, output_type="np" floats)."""

    class Stub:
        def __call__(self, prompt, num_inference_steps, guidance_scale, generator, output_type):
            assert output_type == "np" and len(generator) == len(prompt)
            images = np.stack([torch.rand((4, 4, 3), generator=g).numpy() * guidance_scale / 4 for g in generator])
            return type("Out", (), {"images": images})()

    images, table = generate_grid(Stub(), ["a", "b"], [3, 4], guidance=(1.0, 4.0), batch_size=3)
    assert images.dtype == np.uint8 and images.shape == (8, 4, 4, 3)
    for row in table.itertuples():
        expected = torch.rand((4, 4, 3), generator=torch.Generator().manual_seed(row.seed)).numpy() * row.guidance / 4
        assert (images[row.image] == np.clip(np.round(expected.astype(np.float64) * 255), 0, 255)).all()


# --- the study --------------------------------------------------------------------------------------------------


def test_build_writes_a_loadable_model_with_manifest_and_card(tmp_path, monkeypatch):
    from genlab.recipes import image_model

    monkeypatch.setattr(image_model, "WORLD", {"n_train": 40, "n_eval": 12, "seed": 0})
    monkeypatch.setattr(image_model, "image_model_dir", lambda: tmp_path / "model")
    with pytest.raises(FileNotFoundError, match="python -m genlab.recipes.image_model build"):
        image_model.load_default_image_pipeline()
    manifest = image_model.build(tmp_path / "model", steps=2, checkpoints=tmp_path / "ckpt", progress=False,
                                 config=TinyDiffusionConfig.tiny())  # fmt: skip
    assert manifest["training"]["steps"] == 2 and manifest["world"]["manifest"]["counts"]["train"] == 40
    assert manifest["background_check"]["n"] == 12 and manifest["weights_mb"] < image_model.MAX_WEIGHTS_MB
    on_disk = json.loads((tmp_path / "model" / "manifest.json").read_text())
    assert on_disk["training"]["data_sha256"] == manifest["training"]["data_sha256"]
    readme = (tmp_path / "model" / "README.md").read_text()
    assert "Limitations" in readme and f"{manifest['n_parameters']:,}" in readme
    assert (tmp_path / "model" / "samples.png").is_file() and (tmp_path / "ckpt" / "checkpoint-2").is_dir()
    assert image_model.check(tmp_path / "model") == []
    pipe = image_model.load_default_image_pipeline()
    assert pipe(PROMPTS[:1], seeds=[0]).images.shape == (1, 32, 32, 3)


def test_shipped_model_matches_its_world_card_and_samples():
    # the committed genlab-tiny-diffusion: built from today's drawn world, safetensors only, and still drawing the
    # very pictures of its samples.png (so a change to the sampler, the UNet wiring or the weights cannot go unseen)
    from genlab.recipes import image_model

    if not (image_model.image_model_dir() / "model_index.json").is_file():
        pytest.skip("genlab-tiny-diffusion is not built (make image-model)")
    assert image_model.check() == []
    manifest = image_model.read_manifest()
    seen = {r["attribute"]: r for r in manifest["faithfulness"] if not r["held_out"]}
    assert seen["background"]["accuracy"] > 0.95 and 0.0 < seen["all"]["accuracy"] < 0.9  # reads captions, no ceiling


def test_predict_clean_feeds_coordinates_and_caption_embedding():
    from dataclasses import replace

    from genlab.models.diffusion import predict_clean

    pipe = build_pipeline(TinyDiffusionConfig.tiny())
    assert pipe.unet.config.in_channels == pipe.unet.config.out_channels + 2
    assert pipe.unet.config.class_embed_type == "projection"
    x, t = torch.zeros(2, 12, 16, 16), torch.tensor([500, 500])
    text = pipe.encode_prompts(["a red circle at the top on a dark background", "dark background, a blue square "
                                "at the left"])  # fmt: skip
    out = predict_clean(pipe.unet, x, t, text)
    assert out.shape == x.shape
    plain = build_pipeline(replace(TinyDiffusionConfig.tiny(), coordinate_channels=False, caption_embedding=False))
    assert plain.unet.config.in_channels == 12 and plain.unet.config.class_embed_type is None
    assert predict_clean(plain.unet, x, t, plain.encode_prompts(["a", "b"])).shape == x.shape
