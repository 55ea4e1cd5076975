"""Adversarial training in embedding space: FGM and FreeLB as a ``transformers.Trainer`` option.

Text is discrete, so the adversary perturbs the input embeddings instead of the tokens:

- **FGM** (Miyato, Dai & Goodfellow, ICLR 2017): one gradient step of fixed length ε on the embeddings of each
  sequence, ``r_adv = ε · g / ‖g‖₂`` with ``g = ∇_e L`` and the norm over the whole sequence; the update uses
  ``L(e) + L(e + r_adv)`` with ``r_adv`` treated as a constant.
- **FreeLB** (Zhu et al., ICLR 2020, Algorithm 1): K ascent steps on a perturbation δ inside a Frobenius ball of
  radius ε, accumulating the parameter gradients of every step ("free" adversarial training):
  ``δ₀ ~ U(−σ, σ)/√(L·d)`` on real tokens; ``g_θ += (1/K)∇_θ L(e + δ_{t−1})``;
  ``δ_t = Π_{‖δ‖_F ≤ ε}(δ_{t−1} + α · g_δ/‖g_δ‖_F)``.

Deviation from Miyato et al.: their embeddings are normalised (v - E[v]) / sqrt(Var[v]) before perturbing;
GPT-2 ties its input embeddings to the output layer, so genlab perturbs the raw embeddings and ε is on their scale
(compare it with the typical per-token embedding norm, :func:`embedding_scale`). Both rules are implemented as
written in genlab's metrics reference (metrics.md section 9), whose formulas are flagged there as not yet checked
against the papers; FreeLB's initialisation and per-sequence norms follow the authors' code conventions. Both are
per-batch losses on a causal LM (completion tokens only), not the classification setting of the papers.

**Limitations.** Robustness in embedding space is not robustness to discrete edits (typos, swapped words): the
nearest token to ``e + r`` is usually the original token. Score the trained model on text perturbed by
:func:`genlab.data.perturb.perturb` to measure what the training actually buys (notebook 11 does). FGM doubles and
FreeLB multiplies by K the passes per step.

>>> cfg = AdversarialConfig(method="freelb", epsilon=1.0, alpha=0.3, steps=2)
>>> cfg.method, cfg.steps
('freelb', 2)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Literal

import torch
from transformers import Trainer

LossFn = Callable[[torch.Tensor], torch.Tensor]  # embeddings (B, T, d) -> scalar loss
Backward = Callable[[torch.Tensor], None]


@dataclass(frozen=True)
class AdversarialConfig:
    method: Literal["fgm", "freelb"] = "fgm"
    epsilon: float = 1.0  # FGM: ‖r_adv‖₂ per sequence. FreeLB: radius of the ‖δ‖_F ball per sequence (0: no projection)
    alpha: float = 0.1  # FreeLB ascent step length (adv_lr in the authors' code)
    steps: int = 3  # FreeLB K: ascent steps, i.e. forward/backward passes per batch
    init_magnitude: float = 0.02  # FreeLB σ of δ₀ ~ U(−σ, σ)/√(L·d) (adv_init_mag); 0 starts from δ₀ = 0

    def __post_init__(self):
        if self.method not in ("fgm", "freelb"):
            raise ValueError(f"unknown adversarial method {self.method!r}; use 'fgm' or 'freelb'")
        if self.method == "fgm" and self.epsilon <= 0:
            raise ValueError(f"FGM needs epsilon > 0 (the perturbation length), got {self.epsilon}")
        if self.epsilon < 0 or self.alpha <= 0 or self.init_magnitude < 0:
            raise ValueError(f"need epsilon >= 0, alpha > 0 and init_magnitude >= 0; got {self}")
        if self.steps < 1:
            raise ValueError(f"FreeLB needs steps >= 1 ascent steps, got {self.steps}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class AdversarialTrace:
    """What one adversarial step did: the losses it optimised and the perturbation norms it used."""

    clean_loss: float | None = None  # FGM: L(e)
    losses: list[float] = field(default_factory=list)  # FGM: [L(e + r_adv)]; FreeLB: L(e + δ_t), t = 0..K-1
    perturbation_norms: list[list[float]] = field(default_factory=list)  # per step, one norm per sequence
    objective: float = 0.0  # what the parameter gradients are the gradient of


def sequence_norm(x: torch.Tensor) -> torch.Tensor:
    """L2 (Frobenius) norm of each sequence's (T, d) block: (B, T, d) -> (B, 1, 1)."""
    return x.flatten(1).norm(dim=1).view(-1, 1, 1)


def embedding_scale(model) -> float:
    """Median L2 norm of one token embedding: the yardstick for ε (ε is per sequence, so compare with ε/√T)."""
    weight = model.get_input_embeddings().weight.detach().float()
    return float(weight.norm(dim=1).median())


def fgm_perturbation(grad: torch.Tensor, mask: torch.Tensor, epsilon: float) -> torch.Tensor:
    """r_adv = ε · g / ‖g‖₂ per sequence (Miyato et al. 2017, eq. 1 with the L2 constraint), zero on padding.

    >>> g = torch.tensor([[[3.0, 0.0], [0.0, 4.0]]])
    >>> fgm_perturbation(g, torch.ones(1, 2), epsilon=1.0)
    tensor([[[0.6000, 0.0000],
             [0.0000, 0.8000]]])
    """
    g = grad * mask[..., None]  # (B, T, d)
    return epsilon * g / sequence_norm(g).clamp(min=1e-12)


def project(delta: torch.Tensor, epsilon: float) -> torch.Tensor:
    """Π onto {‖δ‖_F ≤ ε} per sequence (rescale only those outside the ball); ε = 0 means no constraint.

    >>> project(torch.tensor([[[3.0, 4.0]]]), 1.0)
    tensor([[[0.6000, 0.8000]]])
    """
    if epsilon <= 0:
        return delta
    norm = sequence_norm(delta)
    return delta * torch.where(norm > epsilon, epsilon / norm.clamp(min=1e-12), torch.ones_like(norm))


def freelb_init(
    embeds: torch.Tensor, mask: torch.Tensor, magnitude: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """δ₀ ~ U(−σ, σ) / √(L·d) on real tokens (L: each sequence's length), as in the FreeLB authors' code."""
    if magnitude == 0:
        return torch.zeros_like(embeds)
    u = torch.rand(embeds.shape, generator=generator, dtype=embeds.dtype).to(embeds.device) * 2 - 1  # U(-1, 1)
    dims = mask.sum(1).view(-1, 1, 1) * embeds.shape[-1]  # (B, 1, 1): L·d
    return u * mask[..., None] * magnitude / dims.clamp(min=1).sqrt()


def fgm_step(
    embed: Callable[[], torch.Tensor],
    loss_fn: LossFn,
    mask: torch.Tensor,
    config: AdversarialConfig,
    backward: Backward,
) -> AdversarialTrace:
    """One FGM update: backward of L(e) then of L(e + r_adv); parameter gradients are their sum.

    ``embed()`` returns the input embeddings with their graph to the embedding matrix (called once per pass).
    """
    embeds = embed()  # (B, T, d)
    if embeds.requires_grad:
        embeds.retain_grad()
    else:  # frozen embedding matrix (LoRA, IA3, ...): g is still needed
        embeds = embeds.detach().requires_grad_()
    clean = loss_fn(embeds)
    backward(clean)  # parameter gradients of the clean loss, and g = ∂L/∂e
    r_adv = fgm_perturbation(embeds.grad.detach(), mask, config.epsilon)  # constant: no gradient through r
    adv = loss_fn(embed() + r_adv)
    backward(adv)
    return AdversarialTrace(
        clean_loss=clean.item(),
        losses=[adv.item()],
        perturbation_norms=[sequence_norm(r_adv).flatten().tolist()],
        objective=clean.item() + adv.item(),
    )


def freelb_step(
    embed: Callable[[], torch.Tensor],
    loss_fn: LossFn,
    mask: torch.Tensor,
    config: AdversarialConfig,
    backward: Backward,
    generator: torch.Generator | None = None,
) -> AdversarialTrace:
    """One FreeLB update (Zhu et al. 2020, Algorithm 1): K passes, each adding (1/K)∇_θ L(e + δ_t), then ascend δ."""
    k = config.steps
    delta = project(freelb_init(embed().detach(), mask, config.init_magnitude, generator), config.epsilon)
    trace = AdversarialTrace()
    for t in range(k):
        delta.requires_grad_()
        loss = loss_fn(embed() + delta)  # embeddings recomputed: the graph to the embedding matrix is per pass
        backward(loss / k)  # parameter gradients accumulate over the K steps ("free" training)
        trace.losses.append(loss.item())
        trace.perturbation_norms.append(sequence_norm(delta.detach()).flatten().tolist())
        if t == k - 1:
            break
        g = delta.grad.detach()
        delta = project(delta.detach() + config.alpha * g / sequence_norm(g).clamp(min=1e-12), config.epsilon)
    trace.objective = sum(trace.losses) / k
    return trace


class AdversarialTrainer(Trainer):
    """``Trainer`` whose training step is FGM or FreeLB on the input embeddings (evaluation stays clean).

    The logged ``loss`` is the adversarial objective (FGM: clean + adversarial; FreeLB: mean over the K steps);
    ``clean_loss`` (FGM) and ``adv_loss`` are logged beside it.
    """

    def __init__(self, *args, adversarial: AdversarialConfig, **kwargs):
        super().__init__(*args, **kwargs)
        self.adversarial = adversarial
        self._adv_logs: dict[str, list[float]] = {"adv_loss": [], "clean_loss": []}
        self.last_trace: AdversarialTrace | None = None

    def training_step(self, model, inputs, num_items_in_batch=None) -> torch.Tensor:
        model.train()
        inputs = self._prepare_inputs(inputs)
        scale = 1.0 / self.current_gradient_accumulation_steps  # each loss is a per-batch mean
        word_embeddings = self.accelerator.unwrap_model(model).get_input_embeddings()
        ids, labels = inputs["input_ids"], inputs["labels"]
        mask = inputs.get("attention_mask", torch.ones_like(ids)).to(word_embeddings.weight.dtype)

        def loss_fn(embeds: torch.Tensor) -> torch.Tensor:
            with self.compute_loss_context_manager():
                return model(inputs_embeds=embeds, attention_mask=inputs.get("attention_mask"), labels=labels).loss

        def backward(loss: torch.Tensor) -> None:
            self.accelerator.backward(loss * scale)

        step = fgm_step if self.adversarial.method == "fgm" else freelb_step
        trace = step(lambda: word_embeddings(ids), loss_fn, mask, self.adversarial, backward)
        self.last_trace = trace
        self._adv_logs["adv_loss"].append(sum(trace.losses) / len(trace.losses))
        if trace.clean_loss is not None:
            self._adv_logs["clean_loss"].append(trace.clean_loss)
        return torch.tensor(trace.objective * scale, device=self.args.device)

    def log(self, logs: dict[str, float], *args, **kwargs) -> None:
        if "loss" in logs:  # a training log: add the adversarial components since the last one
            for key, values in self._adv_logs.items():
                if values:
                    logs[key] = round(sum(values) / len(values), 4)
                    values.clear()
        super().log(logs, *args, **kwargs)


def describe(config: AdversarialConfig | None) -> str:
    """A short label for tables: ``"clean"``, ``"fgm ε=1"``, ``"freelb K=3 ε=1 α=0.1"``.

    >>> describe(None), describe(AdversarialConfig(epsilon=0.5))
    ('clean', 'fgm ε=0.5')
    """
    if config is None:
        return "clean"
    if config.method == "fgm":
        return f"fgm ε={config.epsilon:g}"
    return f"freelb K={config.steps} ε={config.epsilon:g} α={config.alpha:g}"


__all__ = [
    "AdversarialConfig",
    "AdversarialTrace",
    "AdversarialTrainer",
    "describe",
    "embedding_scale",
    "fgm_perturbation",
    "fgm_step",
    "freelb_init",
    "freelb_step",
    "project",
    "sequence_norm",
]
