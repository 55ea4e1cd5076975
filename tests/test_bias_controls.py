"""genlab.studies.bias_controls: the control world changes the associations and nothing else."""

from __future__ import annotations

from genlab.data.world import load_world
from genlab.studies.bias_controls import control_model_dir, control_world


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
