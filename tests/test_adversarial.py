"""FGM and FreeLB against hand-written references of the published update rules, on a tiny GPT-2."""

from __future__ import annotations

import copy

import pytest
import torch

from genlab.training.adversarial import (
    AdversarialConfig,
    describe,
    fgm_perturbation,
    fgm_step,
    freelb_init,
    freelb_step,
    project,
)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def setup(tiny_bundle):
    """A fresh trainable copy of the tiny model and a right-padded batch (second row shorter)."""
    torch.manual_seed(0)
    model = copy.deepcopy(tiny_bundle.model).train()
    ids = torch.randint(2, 500, (2, 9))
    mask = torch.ones(2, 9, dtype=torch.long)
    mask[1, 6:] = 0
    ids[1, 6:] = tiny_bundle.tokenizer.pad_token_id
    labels = ids.masked_fill(mask == 0, -100)
    return model, ids, mask, labels


def _loss(model, embeds, mask, labels):
    return model(inputs_embeds=embeds, attention_mask=mask, labels=labels).loss


def _grads(model):
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


def _run(model, step, ids, mask, labels, config, **kw):
    model.zero_grad()
    emb = model.get_input_embeddings()
    trace = step(
        lambda: emb(ids),
        lambda e: _loss(model, e, mask, labels),
        mask.float(),
        config,
        lambda loss: loss.backward(),
        **kw,
    )
    return trace, _grads(model)


def test_fgm_perturbation_and_gradients_follow_miyato(setup):
    model, ids, mask, labels = setup
    cfg = AdversarialConfig("fgm", epsilon=0.7)
    trace, grads = _run(model, fgm_step, ids, mask, labels, cfg)

    # reference, computed independently: g = dL/de; r = eps * g / ||g||_2 per sequence; grads of L(e) + L(e + r)
    ref = copy.deepcopy(model)
    ref.zero_grad()
    params = [p for p in ref.parameters() if p.requires_grad]
    embeds = ref.get_input_embeddings()(ids)
    clean = _loss(ref, embeds, mask, labels)
    g = torch.autograd.grad(clean, embeds, retain_graph=True)[0]
    r = torch.stack([0.7 * g[b] / g[b].norm() for b in range(2)])
    adv = _loss(ref, ref.get_input_embeddings()(ids) + r.detach(), mask, labels)
    expected = torch.autograd.grad(clean + adv, params, allow_unused=True)
    names = [n for n, p in ref.named_parameters() if p.requires_grad]

    assert trace.clean_loss == pytest.approx(clean.item(), rel=1e-6)
    assert trace.losses[0] == pytest.approx(adv.item(), rel=1e-6)
    assert trace.perturbation_norms[0] == pytest.approx([0.7, 0.7], rel=1e-5)
    assert trace.objective == pytest.approx(clean.item() + adv.item(), rel=1e-6)
    for name, exp in zip(names, expected, strict=True):
        if exp is not None:
            torch.testing.assert_close(grads[name], exp, rtol=1e-4, atol=1e-6)
    # the adversarial direction increases the loss (first-order ascent), unlike a random one of the same length
    assert adv.item() > clean.item()


def test_fgm_perturbation_is_zero_on_padding_and_has_length_epsilon():
    g = torch.randn(3, 5, 4)
    mask = torch.ones(3, 5)
    mask[0, 3:] = 0
    r = fgm_perturbation(g, mask, epsilon=2.0)
    assert (r[0, 3:] == 0).all()
    torch.testing.assert_close(r.flatten(1).norm(dim=1), torch.full((3,), 2.0))
    torch.testing.assert_close(r[1], 2.0 * g[1] / g[1].norm())


def test_freelb_matches_algorithm_1_by_hand(setup):
    model, ids, mask, labels = setup
    cfg = AdversarialConfig("freelb", epsilon=0.05, alpha=0.04, steps=3, init_magnitude=0.03)
    trace, grads = _run(model, freelb_step, ids, mask, labels, cfg, generator=torch.Generator().manual_seed(7))

    # Algorithm 1 (Zhu et al. 2020), written out: delta_0 ~ U(-s, s)/sqrt(L*d) on real tokens, then K times:
    # g_theta += (1/K) dL/dtheta, delta <- proj_{||.||_F <= eps}(delta + alpha * g_delta / ||g_delta||_F)
    ref = copy.deepcopy(model)
    ref.zero_grad()
    emb = ref.get_input_embeddings()
    d = emb.weight.shape[1]
    u = torch.rand(ids.shape + (d,), generator=torch.Generator().manual_seed(7)) * 2 - 1
    lengths = mask.sum(1).float()
    delta = u * mask[..., None] * 0.03 / torch.sqrt(lengths * d)[:, None, None]
    losses, norms = [], []
    for t in range(3):
        delta.requires_grad_()
        loss = _loss(ref, emb(ids) + delta, mask, labels)
        (loss / 3).backward()
        losses.append(loss.item())
        norms.append([delta[b].norm().item() for b in range(2)])
        if t == 2:
            break
        g = delta.grad.detach()
        new = []
        for b in range(2):
            step = delta[b].detach() + 0.04 * g[b] / g[b].norm()
            new.append(step * min(1.0, 0.05 / step.norm().item()))
        delta = torch.stack(new)
    assert trace.losses == pytest.approx(losses, rel=1e-5)
    assert sum(trace.perturbation_norms, []) == pytest.approx(sum(norms, []), rel=1e-4)
    assert trace.objective == pytest.approx(sum(losses) / 3, rel=1e-6)
    for name, g in _grads(ref).items():
        torch.testing.assert_close(grads[name], g, rtol=1e-4, atol=1e-7)


def test_freelb_projection_keeps_delta_inside_the_ball(setup):
    model, ids, mask, labels = setup
    # alpha > epsilon: every ascent step leaves the ball, so the projection must bring it back to radius epsilon
    cfg = AdversarialConfig("freelb", epsilon=0.05, alpha=0.2, steps=4, init_magnitude=0.02)
    trace, _ = _run(model, freelb_step, ids, mask, labels, cfg)
    flat = [n for step in trace.perturbation_norms for n in step]
    assert max(flat) <= 0.05 * (1 + 1e-5)
    assert trace.perturbation_norms[-1] == pytest.approx([0.05, 0.05], rel=1e-5)  # on the sphere: projection acted
    assert all(n <= 0.02 for n in trace.perturbation_norms[0])  # ||delta_0||_F <= init_magnitude by construction


def test_freelb_init_is_masked_and_scaled():
    embeds = torch.zeros(2, 10, 8)
    mask = torch.ones(2, 10)
    mask[1, 4:] = 0
    delta = freelb_init(embeds, mask, 0.5, torch.Generator().manual_seed(0))
    assert (delta[1, 4:] == 0).all()
    assert delta[0].abs().max() <= 0.5 / (10 * 8) ** 0.5 and delta[1].abs().max() <= 0.5 / (4 * 8) ** 0.5
    assert (freelb_init(embeds, mask, 0.0) == 0).all()


def test_projection_leaves_points_inside_untouched():
    x = torch.tensor([[[0.3, 0.4]], [[3.0, 4.0]]])
    torch.testing.assert_close(project(x, 1.0), torch.tensor([[[0.3, 0.4]], [[0.6, 0.8]]]))
    assert project(x, 0.0) is x  # epsilon 0: unconstrained, as adv_max_norm=0 in the authors' code


def test_config_validation_and_labels():
    with pytest.raises(ValueError, match="unknown adversarial method"):
        AdversarialConfig("pgd")
    with pytest.raises(ValueError, match="FGM needs epsilon > 0"):
        AdversarialConfig("fgm", epsilon=0)
    with pytest.raises(ValueError, match="steps >= 1"):
        AdversarialConfig("freelb", steps=0)
    assert describe(AdversarialConfig("freelb", epsilon=1, alpha=0.3, steps=2)) == "freelb K=2 ε=1 α=0.3"


def test_fgm_works_with_frozen_embeddings(setup):
    model, ids, mask, labels = setup
    model.get_input_embeddings().weight.requires_grad_(False)  # as under LoRA
    trace, grads = _run(model, fgm_step, ids, mask, labels, AdversarialConfig("fgm", epsilon=0.5))
    assert trace.perturbation_norms[0] == pytest.approx([0.5, 0.5], rel=1e-5)
    assert "transformer.wte.weight" not in grads and grads
