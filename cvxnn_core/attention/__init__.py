r"""Attention and MLP-Mixer heads as block nuclear-norm programs (Sahiner et al., ICML 2022, arXiv 2205.08078).

Our derivation from the paper's abstract (the lemma of :mod:`.program`): every head bilinear in two weight
blocks lifts to a matrix ``Z`` whose nuclear norm is the least weight decay of any set of heads realising it, so
linear self-attention and the linear Mixer block are nuclear-norm programs, and gated attention with fixed gates is a
block nuclear-norm program. Modules: :mod:`.backbone` (a frozen patch embedding of the digits, a ridge head),
:mod:`.heads` (forward passes and lifted maps), :mod:`.program` (solver, ``beta_max``, dual certificate, recovery,
the Adam baseline).
"""

from cvxnn_core.attention.backbone import PatchPCA, ridge_head
from cvxnn_core.attention.heads import (
    attention_forward,
    attention_mask,
    attention_torch_forward,
    gated_attention_map,
    linear_attention_map,
    mixer_forward,
    mixer_map,
    mixer_torch_forward,
    pair_balanced_accuracy,
)
from cvxnn_core.attention.program import (
    BlockNuclearResult,
    beta_max,
    block_nuclear_objective,
    dual_certificate,
    factor_heads,
    solve_block_nuclear,
    train_bilinear_heads,
)

__all__ = [
    "BlockNuclearResult",
    "PatchPCA",
    "ridge_head",
    "attention_forward",
    "attention_mask",
    "attention_torch_forward",
    "beta_max",
    "block_nuclear_objective",
    "dual_certificate",
    "factor_heads",
    "gated_attention_map",
    "linear_attention_map",
    "mixer_forward",
    "mixer_map",
    "mixer_torch_forward",
    "pair_balanced_accuracy",
    "solve_block_nuclear",
    "train_bilinear_heads",
]
