"""Load a language model and its tokenizer into one ``Bundle`` that notebooks pass around.

Local folders and hub names both work; weights load from safetensors only unless you explicitly allow
pickle checkpoints, and ``trust_remote_code`` stays off unless you ask for it.

>>> bundle = load_model("genlab-tiny-world")          # the embedded default, offline
>>> bundle.kind, bundle.tokenizer.pad_token
('causal', '<pad>')
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from genlab.core.paths import data_dir, default_model_dir

DEFAULT_MODEL = "genlab-tiny-world"
#: genlab's other shipped models, loadable by name: name -> (folder under data/models, the command that builds it)
SHIPPED_MODELS = {
    "genlab-tiny-speech": ("genlab-tiny-speech", "python -m genlab.studies.speech_model build"),
    "genlab-tiny-diffusion": ("genlab-tiny-diffusion", "python -m genlab.studies.image_model build"),
}
ModelKind = Literal["causal", "masked", "speech", "text-to-image"]
PICKLE_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack",
                  "model.ckpt.index")
SAFE_WEIGHTS = ("model.safetensors", "model.safetensors.index.json")


class ModelLoadError(RuntimeError):
    """A model could not be loaded; the message says why and what to do."""


@dataclass
class Bundle:
    """A model, its tokenizer, where it runs, and where it came from."""

    model: Any  # a transformers PreTrainedModel (or a peft PeftModel wrapping one)
    tokenizer: Any
    device: torch.device
    kind: ModelKind
    provenance: dict = field(default_factory=dict)  # source, resolved path, revision, adapter, manifest

    @property
    def name(self) -> str:
        return self.provenance.get("name", "model")

    def n_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.model.parameters() if p.requires_grad or not trainable_only)

    def encode(self, texts: list[str], **kwargs) -> dict:
        """Tokenize ``texts`` as a padded batch on the bundle's device."""
        enc = self.tokenizer(texts, return_tensors="pt", padding=True, **kwargs)
        return {k: v.to(self.device) for k, v in enc.items()}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    return torch.device(device)


def resolve_dtype(dtype: str | torch.dtype, device: torch.device) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    try:
        return {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16, "fp16": torch.float16,
                "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}[dtype]
    except KeyError:
        raise ValueError(f"unknown dtype {dtype!r}; use 'auto', 'float32', 'float16' or 'bfloat16'") from None


def _offline() -> bool:
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes")
               for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _looks_like_hub_id(name: str) -> bool:
    parts = name.split("/")
    return len(parts) <= 2 and all(parts) and not name.startswith((".", "~")) and "\\" not in name


def _check_local_dir(path: Path, allow_pickle: bool) -> None:
    files = {p.name for p in path.iterdir()}
    if not (path / "config.json").is_file():
        raise ModelLoadError(f"{path} is a folder but holds no config.json, so it is not a saved model. "
                             "Point to the folder written by `save_pretrained` (or by "
                             "`genlab.training.pretraining.pretrain`).")
    if not files & set(SAFE_WEIGHTS) and not allow_pickle:
        pickled = sorted(files & set(PICKLE_WEIGHTS))
        if pickled:
            raise ModelLoadError(
                f"{path} holds only pickle weights ({', '.join(pickled)}). Loading a pickle can run arbitrary code, "
                "so genlab refuses it. Convert it once in a trusted environment (load, then "
                "`model.save_pretrained(dir, safe_serialization=True)`), or pass allow_pickle=True if you trust the "
                "file.")
        raise ModelLoadError(f"{path} has a config.json but no model.safetensors; the weights are missing.")


def _model_class(config, kind: ModelKind | None):
    from transformers import AutoModelForCausalLM, AutoModelForMaskedLM
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    if kind is None:
        archs = " ".join(config.architectures or [])
        kind = "masked" if ("MaskedLM" in archs or "ForPreTraining" in archs) and "CausalLM" not in archs else "causal"
    names = MODEL_FOR_CAUSAL_LM_MAPPING_NAMES if kind == "causal" else MODEL_FOR_MASKED_LM_MAPPING_NAMES
    if config.model_type not in names:
        supported = ", ".join(sorted(names)[:12])
        raise ModelLoadError(
            f"architecture {config.model_type!r} ({', '.join(config.architectures or ['unknown'])}) is not supported "
            f"as a "
            f"{kind} language model. genlab loads causal LMs (e.g. {supported}, ...) and masked LMs (kind='masked').")
    return kind, (AutoModelForCausalLM if kind == "causal" else AutoModelForMaskedLM)


@contextlib.contextmanager
def quiet_peft_wrap():
    """While peft wraps a model: peft 0.21 reads ``model.is_gradient_checkpointing``, which transformers 5.x deprecated
    ("FutureWarning: `is_gradient_checkpointing` is deprecated ... Use `is_activation_checkpointing` instead"). Only
    peft can change that read, so that one warning is ignored here, and nothing else."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)
        yield


def load_model(name_or_path: str | os.PathLike = DEFAULT_MODEL, *, kind: ModelKind | None = None,
               device: str | torch.device = "auto", dtype: str | torch.dtype = "auto", adapter: str | None = None,
               revision: str | None = None, trust_remote_code: bool = False, allow_pickle: bool = False) -> Any:
    """Load a model and tokenizer from a local folder, a hub name, or ``"genlab-tiny-world"`` (the default).

    Language models come back as a :class:`Bundle`. Two other kinds are handed to their own loaders, with the same
    rules (safetensors only, no downloaded code unless ``trust_remote_code``, offline unless switched on):

    - speech (a config whose architecture ends in ``ForCTC``, or ``kind="speech"``): a
      :class:`genlab.models.speech.SpeechBundle`, whose ``transcribe`` is what generation is for text;
    - text-to-image (a folder with ``model_index.json``, or ``kind="text-to-image"`` for a hub id, which cannot be
      told apart before download): a diffusers pipeline from :func:`genlab.models.diffusion.load_image_pipeline`,
      genlab's own or e.g. a Stable Diffusion pipeline from the hub.

    Args:
        name_or_path: a folder written by ``save_pretrained``, a hub id such as ``"gpt2"``, the default's name, or
            the name of another model genlab ships (``SHIPPED_MODELS``: ``"genlab-tiny-speech"``,
            ``"genlab-tiny-diffusion"``).
        kind: ``"causal"``, ``"masked"``, ``"speech"`` or ``"text-to-image"``; inferred when omitted.
        device: ``"auto"`` picks CUDA, then MPS, then CPU.
        dtype: ``"auto"`` is bfloat16 on CUDA with bf16 support, else float32.
        adapter: a folder (or hub id) of a ``peft`` adapter to apply on top of the base model.
        revision: hub revision (branch, tag or commit) to pin.
        trust_remote_code: run model code shipped with a hub repository. Off by default; turn it on only for
            repositories you trust.
        allow_pickle: accept ``pytorch_model.bin`` checkpoints (unsafe: unpickling can execute code).
    """
    from transformers import AutoConfig, AutoTokenizer

    source = str(name_or_path)
    path = default_model_dir() if source == DEFAULT_MODEL else Path(os.path.expanduser(source))
    if source in SHIPPED_MODELS and not path.exists():  # genlab's speech and image models, by name
        folder, command = SHIPPED_MODELS[source]
        path = data_dir() / "models" / folder
        if not path.is_dir():
            raise ModelLoadError(f"{source} is not built yet (no folder {path}). Build it with `{command}`.")
    if kind == "text-to-image" or (path.is_dir() and (path / "model_index.json").is_file()):
        from genlab.models.diffusion import load_image_pipeline

        return load_image_pipeline(str(path) if path.exists() else source, trust_remote_code=trust_remote_code,
                                   device=device)
    if path.exists():
        if not path.is_dir():
            raise ModelLoadError(f"{path} is a file; pass the folder that holds config.json and model.safetensors.")
        _check_local_dir(path, allow_pickle)
        target, local = str(path), True
    elif source == DEFAULT_MODEL:
        raise ModelLoadError(f"the default model is missing from {path}. Rebuild it with `make default-model` "
                             "(or `python -m genlab.studies.default_model build`).")
    elif not _looks_like_hub_id(source) or source.startswith(("/", "./", "../")):
        raise ModelLoadError(f"model path {source!r} does not exist. Check the path, or pass a hub id like 'gpt2'.")
    else:
        if _offline():
            raise ModelLoadError(
                f"{source!r} is not a local folder, and the hub is offline (HF_HUB_OFFLINE=1), as genlab sets by "
                f"default. "
                f"Either pass a local folder, or go online for this session: `genlab.set_offline(False)` (or unset "
                f"HF_HUB_OFFLINE and TRANSFORMERS_OFFLINE) and load {source!r} again; it is then cached for offline "
                f"use.")
        target, local = source, False

    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev)
    try:
        config = AutoConfig.from_pretrained(target, revision=revision, trust_remote_code=trust_remote_code)
    except ValueError as e:
        if "trust_remote_code" in str(e):
            raise ModelLoadError(f"{source!r} needs custom code from its repository. genlab does not run downloaded "
                                 "code by default; pass trust_remote_code=True only if you trust it.") from e
        raise ModelLoadError(f"could not read the config of {source!r}: {e}") from e
    except OSError as e:
        raise ModelLoadError(f"could not find a model called {source!r}: {e}") from e
    if kind == "speech" or any(a.endswith("ForCTC") for a in (config.architectures or [])):
        from genlab.models.speech import load_speech_model

        return load_speech_model(target, device=resolve_device(device), revision=revision,
                                 trust_remote_code=trust_remote_code)
    kind, auto_cls = _model_class(config, kind)
    model = auto_cls.from_pretrained(target, revision=revision, dtype=torch_dtype, use_safetensors=not allow_pickle,
                                     trust_remote_code=trust_remote_code)
    tokenizer = AutoTokenizer.from_pretrained(target, revision=revision, trust_remote_code=trust_remote_code)
    if kind == "causal":
        tokenizer.padding_side = "left"  # generation continues from the right edge
        if tokenizer.pad_token is None:  # hub GPT-2 has none; reuse EOS only for padding at inference
            tokenizer.pad_token = tokenizer.eos_token

    provenance: dict = {"name": path.name if local else source, "source": source, "local": local,
                        "path": str(path) if local else None, "revision": revision, "adapter": None}
    manifest = path / "manifest.json" if local else None
    if manifest is not None and manifest.is_file():
        provenance["manifest"] = json.loads(manifest.read_text())

    if adapter is not None:
        from peft import PeftModel

        with quiet_peft_wrap():
            model = PeftModel.from_pretrained(model, adapter)
        provenance["adapter"] = str(adapter)
    model.to(dev).eval()
    return Bundle(model=model, tokenizer=tokenizer, device=dev, kind=kind, provenance=provenance)


def load_built_model(path: str | os.PathLike, build_command: str, *, device: str | torch.device = "auto") -> Bundle:
    """A model genlab builds itself (the bias control, the extraction reference) from its folder under ``data/``;
    when it is not built yet, a ``FileNotFoundError`` names the command that builds it.

    >>> load_built_model("/nonexistent/model", "python -m genlab.studies.x build")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no model at /nonexistent/model: build it with `python -m genlab.studies.x build`
    """
    path = Path(path)
    if not (path / "model.safetensors").is_file():
        raise FileNotFoundError(f"no model at {path}: build it with `{build_command}`")
    return load_model(str(path), device=device)
