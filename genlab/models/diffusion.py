"""A tiny text-to-image diffusion model for the drawn world, as a ``diffusers`` pipeline, and a loader for any pipeline.

The parts, each saved with ``save_pretrained`` into its own subfolder (safetensors and JSON only, no pickle):

- ``tokenizer``: word-level over the drawn world's caption vocabulary (:func:`drawn_world_vocabulary`), with
  ``<pad>`` and ``<unk>``; a ``transformers.PreTrainedTokenizerFast`` (``tokenizer.json``). Captions are lower-cased,
  split into words and punctuation, padded to a fixed length, so a prompt's encoding never depends on its batch;
- ``text_encoder``: :class:`TinyTextEncoder`, token + position embedding and one 64-d pre-norm transformer layer;
- ``unet``: ``diffusers.UNet2DConditionModel`` (:func:`unet_config`) on the picture pixel-unshuffled to 12 x 16 x 16
  plus two coordinate maps, cross-attending to the caption at 8 x 8 and 4 x 4 and receiving the whole caption
  encoding through its time embedding (:func:`predict_clean`);
- ``scheduler``: ``DDIMScheduler`` over the cosine ("squaredcos_cap_v2") schedule of 1000 steps, predicting the clean
  picture (``prediction_type="sample"``), as the recipe in ``shared/reference/tooling.md`` section 9 measured best,
  with ``timestep_spacing="trailing"``: the first of k sampling steps is timestep 999, where the input is pure noise
  (Lin et al. 2024, "Common diffusion noise schedules and sample steps are flawed", WACV). diffusers' default
  ("leading") starts 5 steps at timestep 800, where the cosine schedule still keeps 31% of the signal, so the model
  reads objects into the starting noise: measured on this model after 1,600 steps (150 evaluation captions, 5
  steps, guidance 2), position was right on 2% of pictures with "leading" and 25% with "trailing".

:class:`TinyTextToImagePipeline` samples with classifier-free guidance (the model learns the empty caption too, see
``genlab.training.diffusion``). Each picture's starting noise comes from its own seed or generator, so a picture
depends on its prompt, seed, steps and guidance, not on what else is in the batch.

>>> pipe = build_pipeline(TinyDiffusionConfig.tiny(), seed=0)
>>> images = pipe(["a small red circle at the top on a dark background"], seeds=[0], num_inference_steps=2).images
>>> images.shape, images.dtype
((1, 32, 32, 3), dtype('uint8'))
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers import DDIMScheduler, DiffusionPipeline, ModelMixin, UNet2DConditionModel
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.pipelines.pipeline_utils import ImagePipelineOutput
from torch import nn

from genlab.models.common import ModelLoadError, resolve_device

PAD, UNK = "<pad>", "<unk>"
IMAGE_SIZE = 32  # pixels per side; the drawn world's size
UNSHUFFLE = 2  # pixel_unshuffle factor: the UNet sees (3 * 2 * 2) x 16 x 16
COORDINATE_CHANNELS = 2  # row and column maps in [-1, 1] appended to the UNet's input when the config asks for them
GENLAB_PIPELINE = "TinyTextToImagePipeline"
COMPONENTS = ("unet", "text_encoder", "tokenizer", "scheduler")
OUTPUT_TYPES = ("uint8", "np", "pil", "pt")


# --- the caption tokenizer --------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+|[^\w\s]")  # the same split as tokenizers' Whitespace pre-tokenizer


def drawn_world_vocabulary() -> list[str]:
    """Every word and punctuation mark any drawn-world caption can hold (both splits, all five templates), sorted.

    Read off captions rendered from specs that cover every attribute value, with and without a named colour, so the
    list follows the templates in ``genlab.worlds.drawn`` without copying them.

    >>> vocab = drawn_world_vocabulary()
    >>> {"circle", "circles", "canvas", "left", ";", ","} <= set(vocab), len(vocab)
    (True, 44)
    """
    from genlab.worlds import drawn as dw

    specs = []
    colours, shapes = list(dw.COLOURS), list(dw.SHAPES)
    for i, (colour, shape) in enumerate((c, s) for c in colours for s in shapes):
        size, bg = dw.SIZES[i % 2], dw.BACKGROUNDS[(i // 2) % 2]
        base = {c: "" for c in dw.SPEC_COLUMNS} | {"colour": colour, "shape": shape, "size": size, "background": bg}
        specs += [base | {"kind": "single", "position": p, "count": 1} for p in dw.POSITIONS]
        specs += [base | {"kind": "count", "count": k} for k in (2, 3)]
        other = colours[(i + 1) % len(colours)], shapes[(i + 1) % len(shapes)]
        specs += [base | {"kind": "relation", "relation": r, "colour2": other[0], "shape2": other[1],
                          "size2": dw.SIZES[(i + 1) % 2], "count": 2} for r in dw.RELATIONS]  # fmt: skip
    for size in dw.SIZES:  # the other size and background for every kind
        for bg in dw.BACKGROUNDS:
            specs.append(specs[0] | {"size": size, "background": bg})
    words: set[str] = set()
    for spec in specs:
        for template in range(dw.N_TEMPLATES):
            for named in (True, False):
                words.update(_WORD.findall(dw.caption(spec, template, colour_named=named).lower()))
    return sorted(words)


def build_caption_tokenizer(vocabulary: Iterable[str] | None = None, *, max_length: int = 24):
    """A word-level ``PreTrainedTokenizerFast``: ids 0 and 1 are ``<pad>`` and ``<unk>``, then ``vocabulary`` (default:
    :func:`drawn_world_vocabulary`). Text is lower-cased and split into words and single punctuation marks; a word
    outside the vocabulary becomes ``<unk>``. ``max_length``: every caption is padded (or truncated) to this many
    tokens.

    >>> tok = build_caption_tokenizer(["a", "red", "circle"], max_length=6)
    >>> tok("A red CIRCLE, a hexagon", padding="max_length", max_length=6)["input_ids"]
    [2, 3, 4, 1, 2, 1]
    """
    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    words = drawn_world_vocabulary() if vocabulary is None else list(dict.fromkeys(vocabulary))
    bad = [w for w in words if w in (PAD, UNK) or not w or _WORD.fullmatch(w) is None or w != w.lower()]
    if bad:
        raise ValueError(f"vocabulary entries must be lower-case single words or punctuation marks, got {bad[:5]}")
    if max_length < 1:
        raise ValueError(f"max_length must be at least 1, got {max_length}")
    vocab = {PAD: 0, UNK: 1} | {w: i + 2 for i, w in enumerate(words)}
    backend = Tokenizer(WordLevel(vocab, unk_token=UNK))
    backend.normalizer = normalizers.Lowercase()
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token=UNK, pad_token=PAD, model_max_length=max_length,
                                   padding_side="right")  # fmt: skip


def encode_captions(tokenizer, captions: Sequence[str]) -> torch.Tensor:
    """(n, max_length) int64 token ids, every caption padded (or cut) to ``tokenizer.model_max_length``."""
    if isinstance(captions, str) or not all(isinstance(c, str) for c in captions):
        raise TypeError("captions must be a list of strings")
    enc = tokenizer(list(captions), padding="max_length", truncation=True, max_length=tokenizer.model_max_length,
                    return_tensors="pt")  # fmt: skip
    return enc["input_ids"]


# --- the text encoder -------------------------------------------------------------------------------------------


class TinyTextEncoder(ModelMixin, ConfigMixin):
    """Caption ids (B, L) -> hidden states (B, L, hidden_size): token + learned position embedding, ``num_layers``
    pre-norm transformer layers (GELU, no dropout), a final layer norm. Padding is not masked: every caption has the
    same length, and the empty caption (all padding) must still give a defined encoding for classifier-free guidance,
    as CLIP's text encoder attends over its padding too.

    >>> enc = TinyTextEncoder(vocab_size=10, max_length=6)
    >>> tuple(enc(torch.zeros(2, 6, dtype=torch.long)).shape)
    (2, 6, 64)
    """

    @register_to_config
    def __init__(self, vocab_size: int, max_length: int = 24, hidden_size: int = 64, num_heads: int = 4,
                 intermediate_size: int = 128, num_layers: int = 1):  # fmt: skip
        super().__init__()
        self.token_embedding = nn.Embedding(vocab_size, hidden_size)
        self.position_embedding = nn.Embedding(max_length, hidden_size)
        self.layers = nn.ModuleList(_Block(hidden_size, num_heads, intermediate_size) for _ in range(num_layers))
        self.final_norm = nn.LayerNorm(hidden_size)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        length = input_ids.shape[1]
        if length > self.config.max_length:
            raise ValueError(f"captions of {length} tokens are longer than the encoder's {self.config.max_length}")
        positions = torch.arange(length, device=input_ids.device)
        h = self.token_embedding(input_ids) + self.position_embedding(positions)  # (B, L, H)
        for layer in self.layers:
            h = layer(h)
        return self.final_norm(h)


class _Block(nn.Module):
    """One pre-norm transformer layer, written out (``nn.TransformerEncoderLayer`` takes a different fused path in eval
    mode, so train- and eval-mode outputs would differ in the last bits)."""

    def __init__(self, hidden_size: int, num_heads: int, intermediate_size: int):
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"hidden_size {hidden_size} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.norm1 = nn.LayerNorm(hidden_size)
        self.qkv = nn.Linear(hidden_size, 3 * hidden_size)
        self.out = nn.Linear(hidden_size, hidden_size)
        self.norm2 = nn.LayerNorm(hidden_size)
        self.ff = nn.Sequential(
            nn.Linear(hidden_size, intermediate_size), nn.GELU(), nn.Linear(intermediate_size, hidden_size)
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        b, n, d = h.shape
        q, k, v = self.qkv(self.norm1(h)).view(b, n, 3, self.num_heads, d // self.num_heads).permute(2, 0, 3, 1, 4)
        a = torch.nn.functional.scaled_dot_product_attention(q, k, v)  # (B, heads, L, head size)
        h = h + self.out(a.transpose(1, 2).reshape(b, n, d))
        return h + self.ff(self.norm2(h))


# --- configuration ----------------------------------------------------------------------------------------------


@dataclass
class TinyDiffusionConfig:
    """Sizes of the UNet and the text encoder. The default is the measured recipe (1.9M parameters, 7.8 MB)."""

    block_out_channels: tuple[int, ...] = (32, 64, 64)  # UNet channels at 16x16, 8x8, 4x4
    layers_per_block: int = 1
    attention_heads: int = 8  # cross-attention heads at 64 channels: head size 8
    norm_num_groups: int = 8
    text_hidden_size: int = 64  # also the UNet's cross_attention_dim
    text_heads: int = 4
    text_intermediate_size: int = 128
    text_layers: int = 1
    max_caption_tokens: int = 24  # the longest drawn-world caption has 17
    coordinate_channels: bool = True  # feed the UNet two coordinate maps (CoordConv): it has no other sense of place
    caption_embedding: bool = True  # add the whole caption encoding, flattened and projected, to the time embedding
    num_train_timesteps: int = 1000
    beta_schedule: str = "squaredcos_cap_v2"  # the cosine schedule (Nichol & Dhariwal 2021)
    extra_unet: dict = field(default_factory=dict)  # passed to UNet2DConditionModel as they are

    @classmethod
    def tiny(cls) -> TinyDiffusionConfig:
        """A config for tests and examples: about 60k parameters, a few ms per step."""
        return cls(block_out_channels=(8, 16), attention_heads=2, norm_num_groups=4, text_hidden_size=16,
                   text_heads=2, text_intermediate_size=32)  # fmt: skip


def unet_config(config: TinyDiffusionConfig) -> dict:
    """Keyword arguments of ``UNet2DConditionModel``: the picture pixel-unshuffled to 12 x 16 x 16, cross-attention in
    every block but the first (attention at 16 x 16 costs a third of a step and helped little)."""
    n = len(config.block_out_channels)
    if n < 2:
        raise ValueError("block_out_channels needs at least two levels")
    return {
        "sample_size": IMAGE_SIZE // UNSHUFFLE,
        "in_channels": 3 * UNSHUFFLE**2 + (COORDINATE_CHANNELS if config.coordinate_channels else 0),
        "out_channels": 3 * UNSHUFFLE**2,
        "block_out_channels": tuple(config.block_out_channels),
        "down_block_types": ("DownBlock2D",) + ("CrossAttnDownBlock2D",) * (n - 1),
        "up_block_types": ("CrossAttnUpBlock2D",) * (n - 1) + ("UpBlock2D",),
        "layers_per_block": config.layers_per_block,
        "cross_attention_dim": config.text_hidden_size,
        "attention_head_dim": config.attention_heads,  # diffusers reads this as the number of heads here
        "norm_num_groups": config.norm_num_groups,
    } | _caption_embedding(config) | dict(config.extra_unet)  # fmt: skip


def _caption_embedding(config: TinyDiffusionConfig) -> dict:
    """The UNet's global text pathway: diffusers' ``class_embed_type="projection"`` takes a vector per picture (here
    the caption's encoding, every token's, flattened) through a two-layer MLP and adds it to the timestep embedding,
    which every ResNet block receives. Cross-attention alone did not bind the words to the picture: measured on a
    model trained 1,700 steps without it, swapping "top left" for "bottom right" changed the predicted picture
    a thousand times less than swapping the background word, and position stayed below chance."""
    if not config.caption_embedding:
        return {}
    return {"class_embed_type": "projection",
            "projection_class_embeddings_input_dim": config.max_caption_tokens * config.text_hidden_size}  # fmt: skip


def build_pipeline(
    config: TinyDiffusionConfig | None = None, *, tokenizer=None, seed: int = 0
) -> TinyTextToImagePipeline:
    """A freshly initialised pipeline (weights drawn from ``seed``; the global torch RNG is left as it was)."""
    config = config or TinyDiffusionConfig()
    tokenizer = tokenizer or build_caption_tokenizer(max_length=config.max_caption_tokens)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = UNet2DConditionModel(**unet_config(config))
        text_encoder = TinyTextEncoder(vocab_size=len(tokenizer), max_length=config.max_caption_tokens,
                                       hidden_size=config.text_hidden_size, num_heads=config.text_heads,
                                       intermediate_size=config.text_intermediate_size,
                                       num_layers=config.text_layers)  # fmt: skip
    unet.eval()
    text_encoder.eval()
    scheduler = DDIMScheduler(num_train_timesteps=config.num_train_timesteps, beta_schedule=config.beta_schedule,
                              prediction_type="sample", clip_sample=True, timestep_spacing="trailing")  # fmt: skip
    return TinyTextToImagePipeline(unet=unet, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=scheduler)


# --- pixels <-> model space -------------------------------------------------------------------------------------


def images_to_model(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """(n, 32, 32, 3) uint8 pictures -> (n, 12, 16, 16) float32 in [-1, 1], pixel-unshuffled."""
    x = torch.as_tensor(np.asarray(images))
    if x.dtype != torch.uint8 or x.ndim != 4 or tuple(x.shape[1:]) != (IMAGE_SIZE, IMAGE_SIZE, 3):
        raise ValueError(
            f"images must be uint8 of shape (n, {IMAGE_SIZE}, {IMAGE_SIZE}, 3), got {x.dtype} {tuple(x.shape)}"
        )
    x = x.permute(0, 3, 1, 2).float() / 127.5 - 1.0  # (n, 3, 32, 32)
    return torch.nn.functional.pixel_unshuffle(x, UNSHUFFLE)


def model_to_unit(x: torch.Tensor) -> torch.Tensor:
    """(n, 12, 16, 16) model space -> (n, 32, 32, 3) float in [0, 1]."""
    x = torch.nn.functional.pixel_shuffle(x, UNSHUFFLE)  # (n, 3, 32, 32)
    return (x / 2 + 0.5).clamp(0, 1).permute(0, 2, 3, 1)


def unit_to_uint8(x: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] -> uint8, rounded as ``diffusers`` rounds (``(x * 255).round()``)."""
    return np.clip(np.round(np.asarray(x, dtype=np.float64) * 255), 0, 255).astype(np.uint8)


def predict_clean(unet: UNet2DConditionModel, x: torch.Tensor, t, text: torch.Tensor) -> torch.Tensor:
    """The UNet's prediction for noisy pictures ``x`` (n, 12, 16, 16) at timestep(s) ``t`` given caption encodings.

    A UNet whose ``in_channels`` exceed its ``out_channels`` by :data:`COORDINATE_CHANNELS` gets a row map and a
    column map (each in [-1, 1]) appended to its input, as CoordConv does (Liu et al. 2018, "An intriguing failing of
    convolutional neural networks and the CoordConv solution"): convolutions and attention without positional
    encodings hardly know where in the picture they are, and "at the top left" must become a place. A UNet with a
    projection class embedding also gets the flattened caption encoding as its class label (the global text
    pathway of :class:`TinyDiffusionConfig`'s ``caption_embedding``). Training and sampling both call this
    function, so the two cannot disagree.
    """
    extra = unet.config.in_channels - unet.config.out_channels
    if extra == COORDINATE_CHANNELS:
        n, _, h, w = x.shape
        rows = torch.linspace(-1.0, 1.0, h, device=x.device, dtype=x.dtype).view(1, 1, h, 1).expand(n, 1, h, w)
        cols = torch.linspace(-1.0, 1.0, w, device=x.device, dtype=x.dtype).view(1, 1, 1, w).expand(n, 1, h, w)
        x = torch.cat([x, rows, cols], dim=1)
    elif extra != 0:
        raise ValueError(f"a UNet with {unet.config.in_channels} input and {unet.config.out_channels} output channels "
                         f"is neither plain nor coordinate-conditioned (+{COORDINATE_CHANNELS})")  # fmt: skip
    if unet.config.class_embed_type == "projection":  # the caption embedding (see _caption_embedding)
        return unet(x, t, encoder_hidden_states=text, class_labels=text.flatten(1)).sample
    return unet(x, t, encoder_hidden_states=text).sample


# --- the pipeline -----------------------------------------------------------------------------------------------


class TinyTextToImagePipeline(DiffusionPipeline):
    """Caption -> 32x32 picture, with classifier-free guidance (Ho & Salimans 2022) and DDIM sampling (Song et al.
    2021) on a clean-picture-predicting UNet.

    Call it as any ``diffusers`` text-to-image pipeline: ``pipe(prompts, num_inference_steps=5, guidance_scale=2.0,
    generator=[torch.Generator().manual_seed(s) for s in seeds])``, or pass ``seeds=`` directly. ``guidance_scale``
    g mixes the conditional and unconditional predictions as ``uncond + g * (cond - uncond)``: 1 is the conditional
    model alone (one UNet pass), 0 the unconditional one.
    """

    model_cpu_offload_seq = "text_encoder->unet"

    def __init__(self, unet: UNet2DConditionModel, text_encoder: TinyTextEncoder, tokenizer, scheduler: DDIMScheduler):
        super().__init__()
        self.register_modules(unet=unet, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=scheduler)

    def encode_prompts(self, prompts: Sequence[str], compute_batch: int | None = None) -> torch.Tensor:
        """(n, L, H) caption encodings (untrusted text: unknown words become ``<unk>``)."""
        ids = encode_captions(self.tokenizer, prompts).to(self.text_encoder.device)
        return _in_blocks(self.text_encoder, compute_batch, ids)

    def unknown_words(self, prompts: Sequence[str]) -> list[list[str]]:
        """For each prompt, the words (and marks) the caption tokenizer does not know, in order, as written.

        >>> pipe = build_pipeline(TinyDiffusionConfig.tiny(), seed=0)
        >>> pipe.unknown_words(["a red circle", "a Purple HEXAGON", ""])
        [[], ['HEXAGON'], []]
        """
        if isinstance(prompts, str) or not all(isinstance(p, str) for p in prompts):
            raise TypeError("prompts must be a list of strings")
        tok = self.tokenizer
        enc = tok(list(prompts), add_special_tokens=False, return_offsets_mapping=True)
        return [
            [p[a:b] for i, (a, b) in zip(ids, offsets, strict=True) if i == tok.unk_token_id]
            for p, ids, offsets in zip(prompts, enc["input_ids"], enc["offset_mapping"], strict=True)
        ]

    def _check_prompts(self, prompts: list[str]) -> None:
        """Raise on a prompt made only of unknown words (its picture would not depend on it); warn once, listing
        them, when some prompts hold unknown words, which the model reads as ``<unk>``."""
        unknown = self.unknown_words(prompts)
        if not any(unknown):
            return
        tok = self.tokenizer
        n_known = len(set(tok.get_vocab()) - set(tok.all_special_tokens))
        known = f"the caption tokenizer knows {n_known} words and marks (pipe.tokenizer.get_vocab())"
        lengths = [len(ids) for ids in tok(prompts, add_special_tokens=False)["input_ids"]]
        blind = [i for i, (words, n) in enumerate(zip(unknown, lengths, strict=True)) if words and len(words) == n]
        if blind:
            i, others = blind[0], ", ".join(map(str, blind[1:]))
            raise ValueError(
                f"prompt {i} ({prompts[i]!r}) is made only of words the model does not know "
                f"({', '.join(map(repr, dict.fromkeys(unknown[i])))}), so its picture would not depend on it"
                + (f" (so are prompts {others})" if others else "")
                + f"; {known}. Rephrase it with those words."
            )
        words = list(dict.fromkeys(w.lower() for ws in unknown for w in ws))
        n = sum(bool(ws) for ws in unknown)
        warnings.warn(
            f"{n} of {len(prompts)} prompts hold words the model does not know, read as {tok.unk_token} and so "
            f"ignored by the picture: {', '.join(map(repr, words))}; {known}. Rephrase them with those words.",
            UserWarning,
            stacklevel=4,  # the caller of pipe(...): past __call__ and torch.no_grad's wrapper
        )

    def _noise(self, n: int, generator, seeds) -> torch.Tensor:
        shape = (self.unet.config.out_channels, self.unet.config.sample_size, self.unet.config.sample_size)
        if seeds is not None:
            if generator is not None:
                raise ValueError("pass either seeds or generator, not both")
            if len(seeds) != n:
                raise ValueError(f"{len(seeds)} seeds for {n} prompts; pass one seed per prompt")
            generator = [torch.Generator().manual_seed(int(s)) for s in seeds]
        if isinstance(generator, (list, tuple)):
            if len(generator) != n:
                raise ValueError(f"{len(generator)} generators for {n} prompts; pass one per prompt")
            return torch.stack([torch.randn(shape, generator=g, device=g.device) for g in generator])
        return torch.randn((n, *shape), generator=generator, device=generator.device if generator else "cpu")

    @torch.no_grad()
    def __call__(self, prompt: str | Sequence[str], *, num_inference_steps: int = 5, guidance_scale: float = 2.0,
                 generator: torch.Generator | list[torch.Generator] | None = None, seeds: Sequence[int] | None = None,
                 output_type: str = "uint8", return_dict: bool = True, compute_batch: int | None = 16):  # fmt: skip
        """Pictures for ``prompt`` (a string or a list): ``.images`` is (n, 32, 32, 3) uint8 (``output_type="uint8"``),
        float in [0, 1] (``"np"``, as ``diffusers`` pipelines return), a list of PIL images (``"pil"``) or a torch
        tensor in [0, 1] (``"pt"``). One seed (or generator) per prompt makes each picture reproducible on its own.

        ``compute_batch``: the models run on blocks of exactly this many rows (the last one padded), because a CPU
        matrix product's rounding can depend on how many rows it multiplies (measured: differences of 1e-6 between
        batches of 3 and 16). Fixed blocks make every picture bit-identical whatever else is in the call; ``None``
        runs the whole call at once (faster on a GPU, identical only up to rounding).

        Words the caption tokenizer does not know are read as ``<unk>``, which the picture cannot follow: a prompt
        holding some of them draws with a ``UserWarning`` that lists them (once per call, see :meth:`unknown_words`),
        and a prompt made only of them raises a ``ValueError`` (its picture would not depend on it)."""
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        if not prompts:
            raise ValueError("no prompts given")
        self._check_prompts(prompts)
        if output_type not in OUTPUT_TYPES:
            raise ValueError(f"output_type must be one of {OUTPUT_TYPES}, got {output_type!r}")
        if int(num_inference_steps) < 1:
            raise ValueError(f"num_inference_steps must be at least 1, got {num_inference_steps}")
        device, dtype = self.unet.device, self.unet.dtype
        n = len(prompts)
        latents = self._noise(n, generator, seeds).to(device=device, dtype=dtype)  # (n, 12, 16, 16)
        guided = float(guidance_scale) != 1.0
        if compute_batch is not None and int(compute_batch) < 1:
            raise ValueError(f"compute_batch must be a positive number of rows or None, got {compute_batch}")
        text = self.encode_prompts(([""] * n if guided else []) + prompts, compute_batch)  # (2n or n, L, H)
        self.scheduler.set_timesteps(int(num_inference_steps), device=device)
        for t in self.scheduler.timesteps:
            model_in = torch.cat([latents, latents]) if guided else latents

            def unet(x, c, t=t):
                return predict_clean(self.unet, x, t, c)

            pred = _in_blocks(unet, compute_batch, model_in, text)  # the clean picture, in model space
            if guided:
                uncond, cond = pred.chunk(2)
                pred = uncond + guidance_scale * (cond - uncond)
            latents = self.scheduler.step(pred, t, latents, eta=0.0).prev_sample
        unit = model_to_unit(latents.float()).cpu()  # (n, 32, 32, 3) in [0, 1]
        if output_type == "pt":
            images: Any = unit
        elif output_type == "np":
            images = unit.numpy()
        else:
            images = unit_to_uint8(unit.numpy())
            if output_type == "pil":
                from PIL import Image

                images = [Image.fromarray(im) for im in images]
        return ImagePipelineOutput(images=images) if return_dict else (images,)

    def save_pretrained(self, save_directory: str | os.PathLike, *, overwrite: bool = False, **kwargs) -> Path:
        """Write the pipeline (``model_index.json`` and one subfolder per part, safetensors weights) to
        ``save_directory``; refuses a folder that already holds a pipeline unless ``overwrite=True``."""
        path = Path(save_directory)
        if kwargs.get("safe_serialization") is False:
            raise ValueError("genlab saves weights as safetensors only")
        if not overwrite and path.exists() and any(path.iterdir()):
            raise FileExistsError(f"{path} is not empty; pass overwrite=True to replace what is there")
        super().save_pretrained(path, safe_serialization=True, **kwargs)
        return path

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, *, device: str | torch.device = "cpu",
                        **kwargs) -> TinyTextToImagePipeline:  # fmt: skip
        """Load a pipeline saved by :meth:`save_pretrained` from a local folder, each part by its known class and its
        weights from safetensors only (nothing named in the folder is imported)."""
        from transformers import PreTrainedTokenizerFast

        if kwargs:
            raise TypeError(f"unsupported arguments {sorted(kwargs)}; TinyTextToImagePipeline loads local folders only")
        path = Path(pretrained_model_name_or_path)
        index = _read_model_index(path)
        if index.get("_class_name") != GENLAB_PIPELINE:
            raise ModelLoadError(
                f"{path} holds a {index.get('_class_name')!r} pipeline, not genlab's {GENLAB_PIPELINE}"
            )
        missing = [c for c in COMPONENTS if not (path / c).is_dir()]
        if missing:
            raise ModelLoadError(f"{path} lacks the subfolder(s) {missing}; save the pipeline with save_pretrained")
        common = {"use_safetensors": True, "local_files_only": True}
        unet = UNet2DConditionModel.from_pretrained(path / "unet", **common)
        text_encoder = TinyTextEncoder.from_pretrained(path / "text_encoder", **common)
        tokenizer = PreTrainedTokenizerFast.from_pretrained(path / "tokenizer", local_files_only=True)
        scheduler = DDIMScheduler.from_pretrained(path / "scheduler")
        pipe = cls(unet=unet, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=scheduler)
        pipe.to(resolve_device(device))
        unet.eval()
        text_encoder.eval()
        return pipe


def _in_blocks(fn, size: int | None, *tensors: torch.Tensor) -> torch.Tensor:
    """``fn(*tensors)`` computed on blocks of exactly ``size`` rows (the last block padded with zeros), concatenated."""
    n = len(tensors[0])
    if size is None or n == size:
        return fn(*tensors)
    out = []
    for start in range(0, n, size):
        block = [t[start : start + size] for t in tensors]
        pad = size - len(block[0])
        if pad:
            block = [torch.cat([b, b.new_zeros((pad, *b.shape[1:]))]) for b in block]
        out.append(fn(*block)[: size - pad])
    return torch.cat(out)


def _read_model_index(path: Path) -> dict:
    index = path / "model_index.json"
    if not index.is_file():
        raise ModelLoadError(f"{path} holds no model_index.json, so it is not a saved diffusers pipeline")
    return json.loads(index.read_text(encoding="utf-8"))


def _remote_code_in(path: Path, index: dict) -> list[str]:
    """What in a local pipeline folder would run code that is not installed diffusers or transformers."""
    import diffusers.pipelines

    found = [f"custom pipeline class {index['_class_name']}"] if isinstance(index.get("_class_name"), list) else []
    for name, value in index.items():
        if not name.startswith("_") and isinstance(value, list) and value and value[0] is not None:
            # "stable_diffusion" (the safety checker's module) names a pipeline module inside diffusers
            if value[0] not in ("diffusers", "transformers") and not hasattr(diffusers.pipelines, value[0]):
                found.append(f"component {name} from module {value[0]!r}")
    found += [f"code file {p.name}" for p in sorted(path.rglob("*.py"))]
    return found


def load_image_pipeline(path_or_hub_id: str | os.PathLike, *, trust_remote_code: bool = False,
                        device: str | torch.device = "auto", dtype: torch.dtype | None = None):  # fmt: skip
    """Load a text-to-image pipeline: genlab's own from a local folder, any other ``diffusers`` pipeline (e.g. a
    Stable Diffusion checkpoint) from a local folder or, when genlab is online (``genlab.set_offline(False)``), the hub.

    Weights load from safetensors only. Code shipped with a pipeline (a custom pipeline class, a component from a
    module outside diffusers and transformers, ``.py`` files in the folder) is refused unless
    ``trust_remote_code=True``.

    >>> load_image_pipeline("/nonexistent/pipeline")
    Traceback (most recent call last):
    ...
    genlab.models.common.ModelLoadError: pipeline path '/nonexistent/pipeline' does not exist; ...
    """
    from genlab.core.offline import is_offline

    source = str(path_or_hub_id)
    path = Path(os.path.expanduser(source))
    dev = resolve_device(device)
    if path.exists():
        if not path.is_dir():
            raise ModelLoadError(f"{path} is a file; pass the folder that holds model_index.json")
        index = _read_model_index(path)
        if index.get("_class_name") == GENLAB_PIPELINE:
            pipe = TinyTextToImagePipeline.from_pretrained(path, device=dev)
            return pipe.to(dtype=dtype) if dtype is not None else pipe
        code = _remote_code_in(path, index)
        if code and not trust_remote_code:
            raise ModelLoadError(f"{path} ships code ({'; '.join(code)}). genlab does not run code that comes with a "
                                 "model by default; pass trust_remote_code=True only if you trust it.")  # fmt: skip
        target, local = str(path), True
    elif source.startswith(("/", "./", "../", "~")) or source.count("/") > 1:
        raise ModelLoadError(f"pipeline path {source!r} does not exist; check the path, or pass a hub id like "
                             "'org/name'")  # fmt: skip
    elif is_offline():
        raise ModelLoadError(f"{source!r} is not a local folder, and the hub is offline (HF_HUB_OFFLINE=1), as genlab "
                             "sets by default. Pass a local folder, or call `genlab.set_offline(False)` and load it "
                             "again; it is then cached for offline use.")  # fmt: skip
    else:
        target, local = source, False
    try:
        pipe = DiffusionPipeline.from_pretrained(target, use_safetensors=True, trust_remote_code=trust_remote_code,
                                                 local_files_only=local, torch_dtype=dtype)  # fmt: skip
    except (OSError, ValueError) as e:
        raise ModelLoadError(f"could not load a diffusers pipeline from {source!r}: {e}") from e
    return pipe.to(dev)


def pipeline_summary(pipe) -> dict:
    """Parameter counts per part and the configs, for manifests and cards."""
    out: dict[str, Any] = {"class": type(pipe).__name__}
    for name in ("unet", "text_encoder"):
        part = getattr(pipe, name, None)
        if part is not None:
            out[f"n_parameters_{name}"] = sum(p.numel() for p in part.parameters())
    out["n_parameters"] = sum(v for k, v in out.items() if k.startswith("n_parameters_"))
    tok = getattr(pipe, "tokenizer", None)
    if tok is not None:
        out["vocab_size"] = len(tok)
    return out


__all__ = [
    "TinyDiffusionConfig",
    "TinyTextEncoder",
    "TinyTextToImagePipeline",
    "build_caption_tokenizer",
    "build_pipeline",
    "drawn_world_vocabulary",
    "encode_captions",
    "images_to_model",
    "load_image_pipeline",
    "model_to_unit",
    "pipeline_summary",
    "unet_config",
    "unit_to_uint8",
]
