"""Speech recognisers genlab trains: a tiny Wav2Vec 2 with a character CTC head, its processor, and a bundle that
transcribes.

- :func:`speech_config`: the small ``Wav2Vec2Config`` of the recipe that learned genlab's spoken world in minutes on
  two CPU cores (seven 64-channel convolutions, 320x downsampling to 20 ms frames, three transformer layers of
  width 144; about 0.8M parameters), every size a keyword. It also sets small quantiser sizes so the same config
  serves self-supervised pretraining (``Wav2Vec2ForPreTraining``, Baevski et al. 2020).
- :func:`make_processor`: a ``Wav2Vec2Processor`` whose ``Wav2Vec2CTCTokenizer`` reads a ``vocab.json`` genlab
  writes from the spoken world's :data:`~genlab.worlds.spoken.ALPHABET` (``<pad>`` = 0 is the CTC blank, ``|``
  the word delimiter), with a feature extractor that normalises each utterance to zero mean and unit variance.
- :class:`SpeechBundle`: model + processor + provenance; :meth:`SpeechBundle.transcribe` decodes greedily.
- :func:`save_speech_model` / :func:`load_speech_model`: safetensors only; a local folder or a hub id (offline by
  default, like :func:`genlab.models.load_model`).

Greedy CTC decoding (Graves et al. 2006): the most likely token in every 20 ms frame, repeats merged, blanks
dropped, ``|`` read as a space.

>>> processor = make_processor()
>>> ids = processor.tokenizer("the cat's hat").input_ids
>>> processor.tokenizer.decode(ids, group_tokens=False)
"the cat's hat"
>>> len(processor.tokenizer), processor.tokenizer.pad_token_id
(30, 0)

**Limitations.** Greedy decoding uses no language model or lexicon, so one wrong character makes a wrong word (WER
is several times CER). A tiny model trained on espeak-ng voices transcribes those voices, not human speech. Audio
must be mono; :meth:`SpeechBundle.transcribe` resamples audio whose rate it is told (a keyword, a ``datasets``
Audio dict, a ``(rate, samples)`` pair) to 16 kHz, and takes a bare array to be at 16 kHz.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from genlab.models.common import ModelLoadError, hub_offline, resolve_device
from genlab.worlds.spoken import ALPHABET, SAMPLING_RATE

__all__ = [
    "BLANK",
    "WORD_DELIMITER",
    "SpeechBundle",
    "ctc_from_pretrained",
    "load_speech_model",
    "make_processor",
    "new_speech_model",
    "save_speech_model",
    "speech_config",
    "speech_vocab",
]

BLANK = "<pad>"  # CTC blank, id 0
UNKNOWN = "<unk>"
WORD_DELIMITER = "|"  # stands for the space between words
MIN_SAMPLES = 400  # the feature encoder's receptive field (25 ms at 16 kHz): shorter audio gives no frame
PICKLE_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack")
SPEECH_FILES = (
    "config.json",
    "model.safetensors",
    "preprocessor_config.json",
    "processor_config.json",
    "tokenizer_config.json",
    "vocab.json",
    "special_tokens_map.json",
    "added_tokens.json",
)


# --- vocabulary and processor ----------------------------------------------------------------------------------------
def speech_vocab(alphabet: str = ALPHABET) -> dict[str, int]:
    """Token -> id of the character CTC vocabulary: blank ``<pad>`` = 0, ``<unk>`` = 1, then each character of
    ``alphabet`` in order, the space written as ``|``.

    >>> v = speech_vocab("ab ")
    >>> v
    {'<pad>': 0, '<unk>': 1, 'a': 2, 'b': 3, '|': 4}
    """
    if not isinstance(alphabet, str) or not alphabet:
        raise ValueError(f"alphabet must be a non-empty string of characters; got {alphabet!r}")
    if len(set(alphabet)) != len(alphabet):
        raise ValueError(f"alphabet lists a character more than once: {alphabet!r}")
    if WORD_DELIMITER in alphabet or any(c.isspace() and c != " " for c in alphabet):
        raise ValueError(f"alphabet may hold ' ' as its only white space and not {WORD_DELIMITER!r}; got {alphabet!r}")
    vocab = {BLANK: 0, UNKNOWN: 1}
    for c in alphabet:
        vocab[WORD_DELIMITER if c == " " else c] = len(vocab)
    return vocab


def make_processor(alphabet: str = ALPHABET, *, sampling_rate: int = SAMPLING_RATE):
    """A ``Wav2Vec2Processor``: a ``Wav2Vec2CTCTokenizer`` over :func:`speech_vocab` (no BOS/EOS, no lower-casing:
    text is normalised before it is tokenised) and a ``Wav2Vec2FeatureExtractor`` that normalises each utterance to
    zero mean and unit variance (over its own samples only, padding excluded) and returns an attention mask."""
    from transformers import Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor, Wav2Vec2Processor

    with tempfile.TemporaryDirectory(prefix="genlab-vocab-") as tmp:
        vocab_file = Path(tmp) / "vocab.json"
        vocab_file.write_text(json.dumps(speech_vocab(alphabet), ensure_ascii=False), encoding="utf-8")
        tokenizer = Wav2Vec2CTCTokenizer(
            str(vocab_file),
            unk_token=UNKNOWN,
            pad_token=BLANK,
            word_delimiter_token=WORD_DELIMITER,
            bos_token=None,
            eos_token=None,
            do_lower_case=False,
        )
    extractor = Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=sampling_rate, padding_value=0.0, do_normalize=True, return_attention_mask=True
    )
    return Wav2Vec2Processor(feature_extractor=extractor, tokenizer=tokenizer)


# --- the model -------------------------------------------------------------------------------------------------------
def speech_config(
    vocab_size: int = len(ALPHABET) + 2,
    *,
    conv_channels: int = 64,  # width of each of the 7 feature-encoder convolutions (strides 5,2,2,2,2,2,2: 320x)
    feat_extract_norm: str = "group",  # "group": norm on the first conv only (fast); "layer": after every conv
    hidden_size: int = 144,  # transformer width
    num_hidden_layers: int = 3,
    num_attention_heads: int = 4,
    intermediate_size: int = 432,  # feed-forward width (3x hidden)
    num_conv_pos_embeddings: int = 32,  # kernel of the convolutional position embedding
    num_conv_pos_embedding_groups: int = 8,
    hidden_dropout: float = 0.05,
    mask_time_prob: float = 0.05,  # SpecAugment-style time masking while training CTC
    mask_time_length: int = 5,
    codevector_groups: int = 2,  # pretraining quantiser: G codebooks of V entries (paper: 2 x 320)
    codevectors_per_group: int = 64,
    codevector_dim: int = 64,  # quantised vector width (paper: 256)
    proj_codevector_dim: int = 64,  # contrastive space width (paper: 256)
    num_negatives: int = 20,  # distractors per masked step (paper: 100)
    **overrides: Any,
):
    """The recipe's tiny ``Wav2Vec2Config`` (tooling notes, section 9: 0.79M parameters, CER 0.06 / WER 0.25 after
    10 minutes on 2 cores). ``overrides`` go to ``Wav2Vec2Config`` unchanged.

    >>> c = speech_config()
    >>> c.hidden_size, c.num_hidden_layers, c.conv_dim, c.vocab_size, c.pad_token_id
    (144, 3, (64, 64, 64, 64, 64, 64, 64), 30, 0)
    """
    from transformers import Wav2Vec2Config

    if feat_extract_norm not in ("group", "layer"):
        raise ValueError(f"feat_extract_norm must be 'group' or 'layer'; got {feat_extract_norm!r}")
    if hidden_size % num_attention_heads:
        raise ValueError(f"hidden_size {hidden_size} must be a multiple of num_attention_heads {num_attention_heads}")
    if codevector_dim % codevector_groups:
        raise ValueError(f"codevector_dim {codevector_dim} must be a multiple of codevector_groups {codevector_groups}")
    settings = dict(
        vocab_size=vocab_size,
        pad_token_id=0,
        conv_dim=(conv_channels,) * 7,
        feat_extract_norm=feat_extract_norm,
        hidden_size=hidden_size,
        num_hidden_layers=num_hidden_layers,
        num_attention_heads=num_attention_heads,
        intermediate_size=intermediate_size,
        num_conv_pos_embeddings=num_conv_pos_embeddings,
        num_conv_pos_embedding_groups=num_conv_pos_embedding_groups,
        hidden_dropout=hidden_dropout,
        mask_time_prob=mask_time_prob,
        mask_time_length=mask_time_length,
        layerdrop=0.0,
        ctc_loss_reduction="mean",
        ctc_zero_infinity=True,
        num_codevector_groups=codevector_groups,
        num_codevectors_per_group=codevectors_per_group,
        codevector_dim=codevector_dim,
        proj_codevector_dim=proj_codevector_dim,
        num_negatives=num_negatives,
    )
    settings.update(overrides)
    return Wav2Vec2Config(**settings)


@dataclass
class SpeechBundle:
    """A CTC speech model, its processor (feature extractor + tokenizer) and where it came from."""

    model: Any  # a transformers *ForCTC model (genlab's: Wav2Vec2ForCTC)
    processor: Any  # a Wav2Vec2Processor
    provenance: dict = field(default_factory=dict)  # name, source, path, manifest, training record

    @property
    def name(self) -> str:
        return self.provenance.get("name", "speech-model")

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def tokenizer(self):
        return self.processor.tokenizer

    def n_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.model.parameters() if p.requires_grad or not trainable_only)

    def logits(
        self, audio: Sequence[Any], *, batch_size: int = 16, sampling_rate: int | None = None
    ) -> list[torch.Tensor]:
        """Per-utterance CTC log-probabilities ``(frames, vocab)`` (float32, CPU), in the order of ``audio``.

        ``audio`` and ``sampling_rate`` are read as in :meth:`transcribe` (audio at another rate is resampled first).
        For Wav2Vec 2 models the feature encoder runs on each utterance alone and only the transformer runs on
        padded batches (with an attention mask): the group norm of the first convolution would otherwise average
        over the padding, and a transcript would depend on its batch. Other CTC models run fully batched.
        """
        arrays = _check_audio(audio, sampling_rate, self.processor.feature_extractor.sampling_rate)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
        order = sorted(range(len(arrays)), key=lambda i: len(arrays[i]))  # little padding within a batch
        out: list[torch.Tensor | None] = [None] * len(arrays)
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                for start in range(0, len(order), batch_size):
                    idx = order[start : start + batch_size]
                    for i, lp in zip(idx, self._batch_logits([arrays[i] for i in idx]), strict=True):
                        out[i] = lp
        finally:
            self.model.train(was_training)
        return out  # type: ignore[return-value]

    def _batch_logits(self, arrays: list[np.ndarray]) -> list[torch.Tensor]:
        from transformers import Wav2Vec2ForCTC

        fe = self.processor.feature_extractor
        dev = self.device
        model = self.model
        if isinstance(model, Wav2Vec2ForCTC):
            base = model.wav2vec2
            feats = []
            for x in arrays:  # each utterance alone through the convolutions: no padding to normalise over
                values = fe(x, sampling_rate=fe.sampling_rate, return_tensors="pt").input_values.to(dev)
                feats.append(base.feature_extractor(values).transpose(1, 2)[0])  # (frames, conv channels)
            lengths = torch.tensor([len(f) for f in feats], device=dev)
            padded = torch.nn.utils.rnn.pad_sequence(feats, batch_first=True)  # (B, T, C)
            mask = torch.arange(padded.shape[1], device=dev)[None, :] < lengths[:, None]  # (B, T) bool
            hidden, _ = base.feature_projection(padded)
            hidden = base.encoder(hidden, attention_mask=mask).last_hidden_state
            if base.adapter is not None:
                hidden = base.adapter(hidden)
            logits = model.lm_head(hidden)
        else:
            enc = fe(arrays, sampling_rate=fe.sampling_rate, padding=True, return_tensors="pt")
            attention = enc.get("attention_mask")
            logits = model(
                enc.input_values.to(dev), attention_mask=None if attention is None else attention.to(dev)
            ).logits
            samples = torch.tensor([len(x) for x in arrays])
            lengths = model._get_feat_extract_output_lengths(samples).to(dev)
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        return [lp[: int(n)].cpu() for lp, n in zip(log_probs, lengths, strict=True)]

    def transcribe(self, audio: Sequence[Any], batch_size: int = 16, *, sampling_rate: int | None = None) -> list[str]:
        """Greedy CTC transcripts of ``audio``, one string per utterance.

        Each utterance is mono audio in one of three forms, which may be mixed:

        - a 1-D array of samples, at ``sampling_rate`` Hz when it is given, else at the model's own rate
          (``processor.feature_extractor.sampling_rate``: 16 kHz for genlab's models);
        - a dict with ``"array"`` and ``"sampling_rate"``, as ``datasets``' ``Audio`` feature gives;
        - a ``(rate, samples)`` or ``(samples, rate)`` pair, as ``scipy.io.wavfile.read``, ``librosa.load`` and
          ``torchaudio.load`` return.

        Audio at another rate than the model's is resampled to it (``scipy.signal.resample_poly``, a polyphase
        filter that removes what the lower rate cannot hold), so 44.1 kHz audio transcribes as well as 16 kHz audio
        does once its rate is known. **A bare array carries no rate**, and none can be read off its samples: it is
        taken to be at ``sampling_rate``, or at the model's rate. Audio at another rate passed that way is heard
        slowed down or sped up and transcribes as garbage, so pass its rate. A rate an utterance carries that
        disagrees with ``sampling_rate`` raises a ``ValueError``.

        Each utterance is normalised on its own (zero mean, unit variance), as in training; batches are padded and
        masked, and the result does not depend on ``batch_size`` or on which utterances share a batch.
        """
        tokenizer = self.processor.tokenizer
        ids = [
            lp.argmax(dim=-1).tolist() for lp in self.logits(audio, batch_size=batch_size, sampling_rate=sampling_rate)
        ]
        # merge repeats, drop blanks, | -> space; an emitted <unk> is no character of the transcript (decoding with
        # skip_special_tokens would drop the blanks before merging repeats, and "a <blank> a" would become "a")
        return [" ".join(tokenizer.decode(seq).replace(UNKNOWN, "").split()) for seq in ids]


def _check_audio(audio: Sequence[Any], sampling_rate: int | None, expected: int) -> list[np.ndarray]:
    """Each utterance as float32 samples at ``expected`` Hz (resampled if it is at another rate), after checks."""
    if isinstance(audio, Mapping) or (isinstance(audio, np.ndarray | torch.Tensor) and audio.ndim == 1):
        raise ValueError("audio must be a list of utterances (1-D arrays); wrap a single utterance in a list")
    if sampling_rate is not None:
        sampling_rate = _rate(sampling_rate, "sampling_rate")
    arrays = []
    for i, a in enumerate(audio):
        samples, rate = _samples_and_rate(a, i)
        if rate is None:
            rate = expected if sampling_rate is None else sampling_rate
        elif sampling_rate is not None and rate != sampling_rate:
            raise ValueError(
                f"utterance {i} carries sampling rate {rate} Hz but sampling_rate={sampling_rate} was passed; "
                "drop the keyword to use each utterance's own rate, or correct the one that is wrong"
            )
        x = np.asarray(samples.detach().cpu() if isinstance(samples, torch.Tensor) else samples, dtype=np.float32)
        if x.ndim != 1:
            raise ValueError(f"utterance {i} has shape {x.shape}; pass mono audio as a 1-D array of samples")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"utterance {i} holds NaN or infinite samples")
        if rate != expected:
            from scipy.signal import resample_poly

            g = math.gcd(rate, expected)
            x = resample_poly(x.astype(np.float64), expected // g, rate // g).astype(np.float32)
        if len(x) < MIN_SAMPLES:
            raise ValueError(
                f"utterance {i} has {len(x)} samples at {expected} Hz; at least {MIN_SAMPLES} (25 ms) are needed"
            )
        arrays.append(x)
    return arrays


def _rate(value: Any, what: str) -> int:
    number = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if number and value > 0 and float(value).is_integer():
        return int(value)
    raise ValueError(f"{what} must be a positive whole number of samples per second, such as 16000; got {value!r}")


def _samples_and_rate(a: Any, i: int) -> tuple[Any, int | None]:
    """An utterance's samples and the rate it carries (None for a bare array)."""
    if isinstance(a, Mapping):
        if "array" not in a:
            raise ValueError(
                f"utterance {i} is a dict without an 'array' key (keys: {', '.join(map(str, a))}); pass "
                "{'array': samples, 'sampling_rate': rate}, as datasets' Audio feature gives, or the bare samples"
            )
        rate = a.get("sampling_rate")
        return a["array"], None if rate is None else _rate(rate, f"utterance {i}'s 'sampling_rate'")
    if isinstance(a, tuple) and len(a) == 2:
        scalar = [k for k, v in enumerate(a) if np.ndim(v) == 0]
        if len(scalar) == 1:  # (rate, samples) or (samples, rate)
            k = scalar[0]
            return a[1 - k], _rate(a[k], f"utterance {i}'s sampling rate")
    return a, None


def new_speech_model(config=None, processor=None, *, seed: int = 0, name: str = "speech-model") -> SpeechBundle:
    """A freshly initialised ``Wav2Vec2ForCTC`` (weights drawn with ``seed``) with :func:`make_processor`'s processor;
    the config's ``vocab_size`` and ``pad_token_id`` are set from the tokenizer."""
    from transformers import Wav2Vec2ForCTC

    processor = processor or make_processor()
    config = _ctc_config(config if config is not None else speech_config(), processor)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Wav2Vec2ForCTC(config)
    return SpeechBundle(
        model=model.eval(),
        processor=processor,
        provenance={"name": name, "source": "genlab.models.speech.new_speech_model", "seed": seed},
    )


def _ctc_config(config, processor):
    config = config.__class__.from_dict(config.to_dict())  # a copy
    config.vocab_size = len(processor.tokenizer)
    config.pad_token_id = processor.tokenizer.pad_token_id
    config.architectures = ["Wav2Vec2ForCTC"]
    return config


def ctc_from_pretrained(pretrained, processor=None, *, seed: int = 0, name: str = "speech-model") -> SpeechBundle:
    """A ``Wav2Vec2ForCTC`` whose encoder (feature encoder, projection, transformer, mask embedding) is copied from a
    self-supervised ``Wav2Vec2ForPreTraining`` model and whose CTC head is new (drawn with ``seed``): the starting
    point for fine-tuning on labelled speech (Baevski et al. 2020)."""
    from transformers import Wav2Vec2ForPreTraining

    if not isinstance(pretrained, Wav2Vec2ForPreTraining):
        raise ValueError(f"pretrained must be a Wav2Vec2ForPreTraining model; got {type(pretrained).__name__}")
    bundle = new_speech_model(pretrained.config, processor, seed=seed, name=name)
    bundle.model.wav2vec2.load_state_dict(pretrained.wav2vec2.state_dict(), strict=True)  # raises on any mismatch
    bundle.provenance["pretrained"] = True
    return bundle


# --- saving and loading ----------------------------------------------------------------------------------------------
def save_speech_model(bundle: SpeechBundle, directory: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write the model (``config.json``, ``model.safetensors``) and processor (``preprocessor_config.json``,
    ``vocab.json``, tokenizer files) to ``directory``; returns it.

    A folder that already holds a model is left untouched (``FileExistsError``) unless ``overwrite=True``, which
    replaces the model's files (written to a temporary folder first, then moved in; other files stay)."""
    directory = Path(directory)
    present = sorted(n for n in SPEECH_FILES + PICKLE_WEIGHTS if (directory / n).exists())
    if present and not overwrite:
        raise FileExistsError(
            f"{directory} already holds a model ({', '.join(present)}); pass overwrite=True to "
            "replace it, or choose another folder"
        )
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tmp-speech-", dir=directory))
    try:
        bundle.model.save_pretrained(staging)
        bundle.processor.save_pretrained(staging)
        if not (staging / "model.safetensors").is_file():
            raise RuntimeError(f"save_pretrained wrote no model.safetensors into {staging}; nothing was replaced")
        for name in present:
            (directory / name).unlink()
        for path in staging.iterdir():
            os.replace(path, directory / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


def load_speech_model(
    path_or_hub_id: str | os.PathLike,
    *,
    device: str | torch.device = "cpu",
    revision: str | None = None,
    trust_remote_code: bool = False,
) -> SpeechBundle:
    """A CTC speech model and its processor from a local folder (written by :func:`save_speech_model`) or a hub id
    (e.g. ``"facebook/wav2vec2-base-960h"``), as a :class:`SpeechBundle` in eval mode.

    Weights load from safetensors only. A hub id needs the hub: genlab is offline by default, so it raises a
    :class:`~genlab.models.ModelLoadError` saying how to go online (``genlab.set_offline(False)``).
    ``trust_remote_code`` stays off unless you trust the repository.

    >>> load_speech_model("/nonexistent/speech-model")
    Traceback (most recent call last):
    ...
    genlab.models.common.ModelLoadError: model path '/nonexistent/speech-model' does not exist. ...
    """
    from transformers import AutoConfig, AutoModelForCTC, AutoProcessor

    source = str(path_or_hub_id)
    path = Path(os.path.expanduser(source))
    if path.exists():
        if not path.is_dir():
            raise ModelLoadError(f"{path} is a file; pass the folder that holds config.json and model.safetensors")
        if not (path / "config.json").is_file():
            raise ModelLoadError(f"{path} holds no config.json, so it is not a saved model (see save_speech_model)")
        if not (path / "model.safetensors").is_file():
            pickled = sorted(n for n in PICKLE_WEIGHTS if (path / n).exists())
            raise ModelLoadError(
                f"{path} holds no model.safetensors"
                + (
                    f", only pickle weights ({', '.join(pickled)}), which genlab refuses to unpickle (it can run "
                    "code). Convert them once where you trust them: load, then save_pretrained."
                    if pickled
                    else "."
                )
            )
        target, local = str(path), True
    elif source.startswith(("/", "./", "../", "~")) or len(source.split("/")) > 2:
        raise ModelLoadError(f"model path {source!r} does not exist. Check the path, or pass a hub id.")
    else:
        if hub_offline():
            raise ModelLoadError(
                f"{source!r} is not a local folder, and the hub is offline (HF_HUB_OFFLINE=1), as genlab sets by "
                f"default. Pass a local folder, or go online for this session with `genlab.set_offline(False)` and "
                f"load {source!r} again; it is then cached for offline use."
            )
        target, local = source, False
    try:
        config = AutoConfig.from_pretrained(target, revision=revision, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        raise ModelLoadError(f"could not read the config of {source!r}: {e}") from e
    archs = config.architectures or []
    if not any(a.endswith("ForCTC") for a in archs):
        raise ModelLoadError(
            f"{source!r} is a {', '.join(archs) or config.model_type} model, not a CTC speech "
            "recogniser (an architecture ending in ForCTC); load language models with load_model"
        )
    model = AutoModelForCTC.from_pretrained(
        target, revision=revision, use_safetensors=True, trust_remote_code=trust_remote_code
    )
    processor = AutoProcessor.from_pretrained(target, revision=revision, trust_remote_code=trust_remote_code)
    provenance: dict = {
        "name": path.name if local else source,
        "source": source,
        "local": local,
        "path": str(path) if local else None,
        "revision": revision,
    }
    if local and (path / "manifest.json").is_file():
        provenance["manifest"] = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    model.to(resolve_device(device)).eval()
    return SpeechBundle(model=model, processor=processor, provenance=provenance)
