"""genlab.load_model hands speech and text-to-image folders to their own loaders, with the same safety rules."""

from __future__ import annotations

import numpy as np
import pytest

import genlab
from genlab.models import ModelLoadError, load_model
from genlab.models.diffusion import TinyDiffusionConfig, TinyTextToImagePipeline, build_pipeline
from genlab.models.speech import SpeechBundle, new_speech_model, save_speech_model, speech_config

pytestmark = pytest.mark.usefixtures("one_thread")

TINY_SPEECH = dict(conv_channels=16, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                   num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=2)


def test_a_ctc_folder_loads_as_a_speech_bundle_that_transcribes(tmp_path):
    saved = new_speech_model(speech_config(**TINY_SPEECH), seed=0)
    save_speech_model(saved, tmp_path / "speech")
    loaded = load_model(tmp_path / "speech", device="cpu")
    assert isinstance(loaded, SpeechBundle)
    audio = [np.sin(np.linspace(0, 200, 8000)).astype(np.float32)]
    assert loaded.transcribe(audio) == saved.transcribe(audio)


def test_a_pipeline_folder_loads_as_the_pipeline(tmp_path):
    pipe = build_pipeline(TinyDiffusionConfig.tiny(), seed=0)
    pipe.save_pretrained(tmp_path / "image")
    loaded = load_model(tmp_path / "image", device="cpu")
    assert isinstance(loaded, TinyTextToImagePipeline)
    a = pipe(["a red circle"], seeds=[3], num_inference_steps=2).images
    b = loaded(["a red circle"], seeds=[3], num_inference_steps=2).images
    np.testing.assert_array_equal(a, b)


def test_a_hub_pipeline_is_refused_while_offline():
    assert genlab.is_offline()
    with pytest.raises(ModelLoadError, match="offline"):
        load_model("some-org/some-diffusion-model", kind="text-to-image")


def test_shipped_models_load_by_name_and_a_missing_one_names_its_build(tmp_path, monkeypatch):
    import genlab.models.loading as loading

    monkeypatch.setattr(loading, "data_dir", lambda: tmp_path)
    monkeypatch.chdir(tmp_path)  # a folder named like the model in the working directory would win
    with pytest.raises(ModelLoadError, match="genlab.recipes.speech_model build"):
        load_model("genlab-tiny-speech", device="cpu")
    saved = new_speech_model(speech_config(**TINY_SPEECH), seed=0)
    save_speech_model(saved, tmp_path / "models" / "genlab-tiny-speech")
    assert isinstance(load_model("genlab-tiny-speech", device="cpu"), SpeechBundle)
    with pytest.raises(ModelLoadError, match="genlab.recipes.image_model build"):
        load_model("genlab-tiny-diffusion", device="cpu")


# --- a folder of another kind is refused with a message that says what it holds and what to do -----------------------
def _tiny_bert(cls_name: str, folder, tokenizer):
    import transformers

    config = transformers.BertConfig(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1,
                                     num_attention_heads=2, intermediate_size=32, max_position_embeddings=64)
    getattr(transformers, cls_name)(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_a_sequence_classifier_is_not_loaded_as_a_language_model(tmp_path, tiny_tokenizer):
    """model_type "bert" has a causal LM class too; the head in `architectures` decides, and a classifier's head
    would be replaced by a random one."""
    folder = _tiny_bert("BertForSequenceClassification", tmp_path / "classifier", tiny_tokenizer)
    for kind in (None, "causal", "masked"):
        with pytest.raises(ModelLoadError, match="BertForSequenceClassification, a text classifier, not a"):
            load_model(folder, kind=kind, device="cpu")
    masked = _tiny_bert("BertForMaskedLM", tmp_path / "masked", tiny_tokenizer)
    assert load_model(masked, device="cpu").kind == "masked"  # a language-model head still loads
    with pytest.raises(ModelLoadError, match="a masked language model, not a causal one: load it with kind='masked'"):
        load_model(masked, kind="causal", device="cpu")


def test_a_pipeline_or_speech_folder_asked_for_as_a_language_model_is_refused(tmp_path):
    build_pipeline(TinyDiffusionConfig.tiny(), seed=0).save_pretrained(tmp_path / "image")
    with pytest.raises(ModelLoadError, match="holds a diffusers text-to-image pipeline .* kind='text-to-image'"):
        load_model(tmp_path / "image", kind="causal", device="cpu")
    save_speech_model(new_speech_model(speech_config(**TINY_SPEECH), seed=0), tmp_path / "speech")
    with pytest.raises(ModelLoadError, match="Wav2Vec2ForCTC, a speech model \\(load it with kind='speech'"):
        load_model(tmp_path / "speech", kind="causal", device="cpu")
