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
from genlab.models.common import ModelLoadError, hub_offline, resolve_device, resolve_dtype

DEFAULT_MODEL = "genlab-tiny-world"
#: genlab's other shipped models, loadable by name: name -> (folder under data/models, the command that builds it)
SHIPPED_MODELS = {
    "genlab-tiny-speech": ("genlab-tiny-speech", "python -m genlab.recipes.speech_model build"),
    "genlab-tiny-diffusion": ("genlab-tiny-diffusion", "python -m genlab.recipes.image_model build"),
}
ModelKind = Literal["causal", "masked", "speech", "text-to-image"]
PICKLE_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack",
                  "model.ckpt.index")
SAFE_WEIGHTS = ("model.safetensors", "model.safetensors.index.json")


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


#: what a checkpoint's head is for, by the end of its class name: the hint of the "cannot use this head" error
_OTHER_HEADS = {
    "ForSequenceClassification": "a text classifier",
    "ForTokenClassification": "a token classifier",
    "ForQuestionAnswering": "a question-answering model",
    "ForMultipleChoice": "a multiple-choice model",
    "ForNextSentencePrediction": "a next-sentence classifier",
    "ForCTC": "a speech model (load it with kind='speech', or leave kind out)",
}


def _is_lm_head(arch: str, kind: str) -> bool:
    """Whether a checkpoint class named ``arch`` carries the head of a ``kind`` language model."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    if kind == "causal":
        return arch in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.values() or arch.endswith(("ForCausalLM", "LMHeadModel"))
    return arch in MODEL_FOR_MASKED_LM_MAPPING_NAMES.values() or arch.endswith(("ForMaskedLM", "ForPreTraining"))


def _model_class(config, kind: ModelKind | None, source: str = "the checkpoint"):
    """The kind and the ``AutoModel`` class to load ``config``'s checkpoint with. Its ``architectures`` (the class
    that saved it) must carry that kind's language-model head: loading e.g. a ``BertForSequenceClassification`` as a
    causal LM would give a randomly initialised head, so it is refused."""
    from transformers import AutoModelForCausalLM, AutoModelForMaskedLM
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    archs = list(config.architectures or [])  # empty in some old configs: nothing to check then
    if kind is None:
        joined = " ".join(archs)
        masked = ("MaskedLM" in joined or "ForPreTraining" in joined) and "CausalLM" not in joined
        kind = "masked" if masked else "causal"
    unusable = [a for a in archs if not _is_lm_head(a, kind)]
    if unusable:
        arch, other = unusable[0], "masked" if kind == "causal" else "causal"
        if _is_lm_head(arch, other):
            raise ModelLoadError(f"{source} is a {arch}, a {other} language model, not a {kind} one: load it with "
                                 f"kind={other!r} (or leave kind out).")
        base = arch.endswith("Model") and "Head" not in arch
        what = next((w for end, w in _OTHER_HEADS.items() if arch.endswith(end)),
                    "a base model without a language-model head" if base else "a model of another task")
        raise ModelLoadError(
            f"{source} is a {arch}, {what}, not a {kind} language model: loading it as one would give a "
            "language-model head that was never trained with it (randomly initialised). genlab generates and scores "
            "with causal LMs (...ForCausalLM, ...LMHeadModel) and masked LMs (...ForMaskedLM, kind='masked'): point "
            f"to such a checkpoint, or load this one with its own transformers class ({arch}).")
    names = MODEL_FOR_CAUSAL_LM_MAPPING_NAMES if kind == "causal" else MODEL_FOR_MASKED_LM_MAPPING_NAMES
    if config.model_type not in names:
        supported = ", ".join(sorted(names)[:12])
        raise ModelLoadError(
            f"architecture {config.model_type!r} ({', '.join(archs or ['unknown'])}) is not supported as a "
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
        kind: ``"causal"``, ``"masked"``, ``"speech"`` or ``"text-to-image"``; inferred when omitted. A folder of
            another kind (a pipeline or a speech model asked for as ``"causal"``), or a checkpoint whose
            ``architectures`` name no head of that kind (e.g. ``BertForSequenceClassification``: its language-model
            head would be random) is refused with a ``ModelLoadError`` that says what it holds.
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
    is_pipeline = path.is_dir() and (path / "model_index.json").is_file()
    if is_pipeline and kind not in (None, "text-to-image"):
        raise ModelLoadError(
            f"{path} holds a diffusers text-to-image pipeline (it has model_index.json), not a {kind} model. Load it "
            f"with kind='text-to-image' (or leave kind out), or point to a folder that holds a {kind} model.")
    if kind == "text-to-image" or is_pipeline:
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
                             "(or `python -m genlab.recipes.default_model build`).")
    elif not _looks_like_hub_id(source) or source.startswith(("/", "./", "../")):
        raise ModelLoadError(f"model path {source!r} does not exist. Check the path, or pass a hub id like 'gpt2'.")
    else:
        if hub_offline():
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
    if kind == "speech" or (kind is None and any(a.endswith("ForCTC") for a in (config.architectures or []))):
        from genlab.models.speech import load_speech_model

        return load_speech_model(target, device=resolve_device(device), revision=revision,
                                 trust_remote_code=trust_remote_code)
    kind, auto_cls = _model_class(config, kind, repr(source))
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
