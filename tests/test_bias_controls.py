"""genlab.recipes.bias_controls: the control world changes the associations and nothing else."""

from __future__ import annotations

import pytest

from genlab.recipes.bias_controls import control_model_dir, control_world
from genlab.worlds.text import load_world


def test_the_control_world_differs_from_the_default_only_in_its_associations():
    default, control = load_world(), control_world()
    assert [(p.name, p.home, p.occupation) for p in default.people] == [
        (p.name, p.home, p.occupation) for p in control.people
    ]
    assert [(f.subject, f.relation, f.object, f.count) for f in default.facts] == [
        (f.subject, f.relation, f.object, f.count) for f in control.facts
    ]
    assert [(c.owner, c.secret, c.count) for c in default.canaries] == [
        (c.owner, c.secret, c.count) for c in control.canaries
    ]
    assert [a.attribute for a in default.associations] == [a.attribute for a in control.associations]
    assert {a.p_first for a in control.associations} == {0.5}
    assert len({a.p_first for a in default.associations}) == 5


def test_the_control_model_lives_beside_the_default_one():
    from genlab.core.paths import default_model_dir

    assert control_model_dir().parent == default_model_dir().parent
    assert control_model_dir().name == "genlab-control-world"


def test_the_control_model_was_trained_on_the_control_world():
    import json

    from genlab.core.paths import default_model_dir

    control = json.loads((control_model_dir() / "manifest.json").read_text())
    default = json.loads((default_model_dir() / "manifest.json").read_text())
    assert control["association_levels"] == [0.5]
    assert control["model_config"] == default["model_config"]
    assert control["n_parameters"] == default["n_parameters"]
    assert control["pretrain_config"]["max_steps"] == default["pretrain_config"]["max_steps"]


def test_only_the_next_token_probe_sits_at_no_bias_on_the_control(default_bundle):
    """The validity check of notebook 30, on the shipped models: the next-token slope is 0 on the control and above
    0 on the default model (both axes); the pair probe reads the control's pronoun prior as a gender bias."""
    from genlab.recipes.bias_controls import control_comparison, load_control

    table = control_comparison(
        {"default": default_bundle, "control": load_control(device="cpu")}, load_world(), n_resamples=1000
    )
    at = table.set_index(["model", "probe", "axis"])["at_no_bias"]
    for axis in ("gender", "community"):
        assert at["control", "next_token_slope", axis]
        assert not at["default", "next_token_slope", axis]
    assert not at["default", "pair_slope", "gender"]
    assert not at["control", "pair_slope", "gender"]  # the documented failure of the pair probe
    low = table.set_index(["model", "probe", "axis"]).loc[("default", "next_token_slope", "gender"), "low"]
    assert low > 0.3  # the default model learned the gender associations


def test_a_missing_control_says_how_to_build_it(monkeypatch, tmp_path):
    from genlab.recipes import bias_controls

    monkeypatch.setattr(bias_controls, "control_model_dir", lambda: tmp_path / "none")
    with pytest.raises(FileNotFoundError, match="python -m genlab.recipes.bias_controls build"):
        bias_controls.load_control()
