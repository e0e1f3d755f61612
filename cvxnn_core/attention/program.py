r"""Block nuclear-norm programs of bilinear heads, their recovery, dual certificate and the Adam baseline.

Lemma (our derivation, checked against an independent implementation): for heads bilinear in ``(a_j, b_j)`` with
``f = sum_j L(a_j b_j^T)``, ``||sum_j a_j b_j^T||_* <= sum_j ||a_j|| ||b_j|| <= sum_j (||a_j||^2 + ||b_j||^2) / 2``, so

    min_{a, b} l(sum_j L(a_j b_j^T)) + (beta/2) sum_j (||a_j||^2 + ||b_j||^2)  =  min_Z l(L(Z)) + beta ||Z||_*

as soon as the number of heads is at least ``rank Z*``; the balanced SVD factors ``a_j = sqrt(sigma_j) u_j``,
``b_j = sqrt(sigma_j) v_j`` attain it. With fixed gates the heads group by gate and the regulariser is the **block
nuclear norm** ``beta sum_g ||Z_g||_*``. For the squared loss ``0.5 ||sum_g A_g vec Z_g - y||^2`` the residual
``r = y - sum_g A_g vec Z_g*`` certifies optimality: ``||mat(A_g^T r)||_2 <= beta`` for every block (equality on
active ones) and ``<r, y> - ||r||^2 / 2 = p*``; ``beta_max = max_g ||mat(A_g^T y)||_2`` is the smallest ``beta``
with ``Z* = 0``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cvxnn_core._cvx import SDP_SOLVER_OPTIONS, check_solver, run_problem
from cvxnn_core._shapes import check_array, check_seeds
from cvxnn_core._training import limit_threads
from cvxnn_core._validation import (
    check_beta,
    check_nonnegative_number,
    check_positive_int,
    check_positive_number,
)
from cvxnn_core.attention._checks import check_block_maps
from cvxnn_core.duality import gap_on_scale

RANK_RTOL = 1e-5  # singular values below this times the largest one do not count as heads
BLOCK_RTOL = 1e-8  # blocks with ||Z_g||_* below this times the largest are pruned before factoring
ZERO_PENALTY_RTOL = 1e-6  # a block whose penalty is below this fraction of the objective is solver noise


@dataclass(frozen=True)
class BlockNuclearResult:
    """Solution of the block nuclear-norm program: ``Z`` (one ``(p, q)`` block per map), ``objective`` (evaluated in
    numpy at ``Z``), ``beta``, ``status``, ``solve_time`` (s), ``solver``; ``fit`` the predictions."""

    Z: list[np.ndarray]
    objective: float
    beta: float
    status: str
    solve_time: float
    solver: str
    fit: np.ndarray = field(repr=False)

    @property
    def ranks(self) -> list[int]:
        """Number of heads of every block: singular values above :data:`RANK_RTOL` of the block's largest; a block is
        empty when it is below :data:`BLOCK_RTOL` of the largest block or when its penalty ``beta ||Z_g||_*`` is below
        :data:`ZERO_PENALTY_RTOL` of the objective (the zero solution, up to solver accuracy)."""
        norms = np.array([np.linalg.svd(Z, compute_uv=False).sum() for Z in self.Z])
        top = norms.max(initial=0.0)
        out = []
        for Z, nrm in zip(self.Z, norms, strict=True):
            if top == 0 or nrm <= BLOCK_RTOL * top or self.beta * nrm <= ZERO_PENALTY_RTOL * abs(self.objective):
                out.append(0)
                continue
            s = np.linalg.svd(Z, compute_uv=False)
            out.append(int(np.sum(s > RANK_RTOL * s[0])))
        return out


def block_nuclear_objective(maps: list[np.ndarray], y: np.ndarray, Z: list[np.ndarray], beta: float) -> float:
    """``0.5 ||sum_g A_g Z_g.ravel() - y||^2 + beta sum_g ||Z_g||_*``."""
    beta = check_beta(beta)
    if isinstance(Z, np.ndarray) or not isinstance(Z, list | tuple) or len(Z) != len(maps):
        count = len(Z) if isinstance(Z, list | tuple) else type(Z).__name__
        raise ValueError(f"Z must be a list of one (p, q) block per map: {len(maps)} maps, got {count}")
    Z = [check_array(Zg, f"Z[{g}]", (None, None), labels=("p", "q")) for g, Zg in enumerate(Z)]
    y = check_block_maps(maps, [Zg.shape for Zg in Z], y, label="Z")
    fit = sum(A @ Zg.ravel() for A, Zg in zip(maps, Z, strict=True))
    return float(0.5 * np.sum((fit - y) ** 2) + beta * sum(np.linalg.svd(Zg, compute_uv=False).sum() for Zg in Z))


def solve_block_nuclear(maps: list[np.ndarray], y: np.ndarray, beta: float, shapes: list[tuple[int, int]], *,
                        solver: str | None = None) -> BlockNuclearResult:
    """``min_Z 0.5 ||sum_g A_g Z_g.ravel() - y||^2 + beta sum_g ||Z_g||_*`` with cvxpy (Clarabel by default)."""
    import cvxpy as cp

    y = check_block_maps(maps, shapes, y)
    beta = check_beta(beta)
    solver = check_solver(solver)
    Zs = [cp.Variable(sh) for sh in shapes]
    fit = sum(A @ cp.vec(Z, order="C") for A, Z in zip(maps, Zs, strict=True))
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(fit - y) + beta * sum(cp.normNuc(Z) for Z in Zs)))
    status, elapsed = run_problem(problem, solver, SDP_SOLVER_OPTIONS.get(solver), what=" on the block nuclear program")
    Z = [np.asarray(v.value, dtype=np.float64) for v in Zs]
    return BlockNuclearResult(Z, block_nuclear_objective(maps, y, Z, beta), beta, status, elapsed, solver,
                              sum(A @ Zg.ravel() for A, Zg in zip(maps, Z, strict=True)))


def beta_max(maps: list[np.ndarray], y: np.ndarray, shapes: list[tuple[int, int]]) -> float:
    """``max_g ||mat(A_g^T y)||_2``: the smallest ``beta`` at which ``Z* = 0``."""
    y = check_block_maps(maps, shapes, y)
    return float(max(np.linalg.norm((A.T @ y).reshape(sh), 2) for A, sh in zip(maps, shapes, strict=True)))


def dual_certificate(maps: list[np.ndarray], y: np.ndarray, result: BlockNuclearResult) -> tuple[float, float]:
    """``(dual ratio, duality gap)`` at the residual ``r = y - fit`` (squared loss); both ``~0``/``<= 1`` at an optimum.

    The ratio is ``max_g ||mat(A_g^T r)||_2 / beta`` (``<= 1`` up to solver accuracy at an optimum); at ``beta = 0``
    the condition is ``A_g^T r = 0``, and the ratio is ``max_g ||mat(A_g^T r)||_2 / beta_max`` (``~0``). The gap is
    ``p - (<r, y> - ||r||^2 / 2)`` relative to ``p``, or to ``0.5 ||y||^2`` when the optimum is zero up to
    :data:`~cvxnn_core.duality.ZERO_OPTIMUM_RTOL` (:func:`~cvxnn_core.duality.gap_on_scale`)."""
    if not isinstance(result, BlockNuclearResult):
        raise TypeError(f"result must be an attention.BlockNuclearResult (from solve_block_nuclear), got "
                        f"{type(result).__name__}")
    y = check_block_maps(maps, [Z.shape for Z in result.Z], y, label="result.Z")
    fit = sum(A @ Zg.ravel() for A, Zg in zip(maps, result.Z, strict=True))
    scale = max(float(np.max(np.abs(result.fit), initial=0.0)), 1.0)
    if fit.shape != result.fit.shape or not np.allclose(fit, result.fit, rtol=1e-9, atol=1e-12 * scale):
        raise ValueError("maps are not those the result was solved with (their predictions differ from result.fit); "
                         "pass the same maps")
    objective = block_nuclear_objective(maps, y, result.Z, result.beta)
    if not np.isclose(objective, result.objective, rtol=1e-9, atol=1e-12):
        raise ValueError(f"y is not the target the result was solved for: objective {objective:.6g} with this y, "
                         f"{result.objective:.6g} in the result; pass the same y")
    r = y - result.fit
    ratio = max(np.linalg.norm((A.T @ r).reshape(Z.shape), 2) for A, Z in zip(maps, result.Z, strict=True))
    if result.beta > 0:
        ratio = ratio / result.beta
    else:
        top = max(np.linalg.norm((A.T @ y).reshape(Z.shape), 2) for A, Z in zip(maps, result.Z, strict=True))
        ratio = ratio / top if top > 0 else 0.0
    dual = float(r @ y - 0.5 * r @ r)
    return float(ratio), gap_on_scale(result.objective, dual, 0.5 * float(y @ y))


def factor_heads(Z: np.ndarray, *, rtol: float = RANK_RTOL) -> tuple[np.ndarray, np.ndarray]:
    """Balanced factors of one block: ``a_j = sqrt(sigma_j) u_j``, ``b_j = sqrt(sigma_j) v_j`` for the singular values
    above ``rtol`` times the largest (``0 <= rtol < 1``); returns ``(a, b)`` with shapes ``(r, p)`` and ``(r, q)``,
    ``sum_j a_j b_j^T ~ Z`` and ``sum_j (||a_j||^2 + ||b_j||^2) / 2 = ||Z||_*``."""
    Z = check_array(Z, "Z", (None, None), labels=("p", "q"), fix="pass one block, e.g. result.Z[g]")
    rtol = check_nonnegative_number(rtol, "rtol")
    if rtol >= 1:
        raise ValueError(f"rtol must be in [0, 1) (a fraction of the largest singular value), got {rtol!r}")
    U, s, Vt = np.linalg.svd(Z, full_matrices=False)
    keep = s > rtol * s[0] if s.size and s[0] > 0 else np.zeros(s.size, dtype=bool)
    root = np.sqrt(s[keep])
    return (U[:, keep] * root).T, Vt[keep] * root[:, None]


def train_bilinear_heads(
    forward, shapes: tuple[tuple[int, ...], tuple[int, ...]], y: np.ndarray, beta: float, heads: int, *,
    seeds: list[int] | tuple[int, ...] = (0,), steps: int = 6000, lr: float = 1e-2, lr_end: float = 1e-5,
    init_scale: float = 0.3, threads: int | None = 1,
) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Adam (step decaying from ``lr`` to ``lr_end``) on ``0.5 ||forward(A, B) - y||^2 + (beta/2)(||A||^2 + ||B||^2)``
    with ``A`` ``(heads, *shapes[0])`` and ``B`` ``(heads, *shapes[1])``; ``forward(A, B)`` is a torch function
    returning the stacked predictions (:func:`~cvxnn_core.attention.heads.attention_torch_forward`). One run per
    seed from
    ``init_scale * N(0, 1)``; returns ``(final objective, A, B)`` per seed."""
    import torch

    if not callable(forward):
        raise TypeError("forward must be a callable f(A, B) returning the stacked predictions, e.g. "
                        "attention_torch_forward(Xs)")
    if (not isinstance(shapes, list | tuple) or len(shapes) != 2
            or any(not isinstance(sh, list | tuple) or not sh
                   or any(isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1 for k in sh)
                   for sh in shapes)):
        raise ValueError(f"shapes must be a pair of shapes ((p1, p2), (q1, q2)) for A and B, got {shapes!r}")
    y = check_array(np.ravel(y), "y", (None,), labels=("N",))
    beta = check_beta(beta)
    heads = check_positive_int(heads, "heads")
    steps = check_positive_int(steps, "steps")
    lr, lr_end = check_positive_number(lr, "lr"), check_positive_number(lr_end, "lr_end")
    if lr_end > lr:
        raise ValueError(f"lr_end = {lr_end} must be <= lr = {lr} (the step decays from lr to lr_end)")
    init_scale = check_positive_number(init_scale, "init_scale")
    seeds = check_seeds(seeds)
    finals = []
    with limit_threads(threads):
        yt = torch.as_tensor(y)
        with torch.no_grad():
            probe = forward(torch.zeros(heads, *shapes[0], dtype=torch.float64),
                            torch.zeros(heads, *shapes[1], dtype=torch.float64))
        if probe.numel() != y.size:
            raise ValueError(f"forward(A, B) returns {probe.numel()} predictions but y has {y.size}; pass the targets "
                             "of the same tokens (Y.ravel())")
        for seed in seeds:
            gen = torch.Generator().manual_seed(seed)
            A = (init_scale * torch.randn(heads, *shapes[0], generator=gen, dtype=torch.float64)).requires_grad_()
            B = (init_scale * torch.randn(heads, *shapes[1], generator=gen, dtype=torch.float64)).requires_grad_()
            opt = torch.optim.Adam([A, B], lr=lr)
            sched = torch.optim.lr_scheduler.ExponentialLR(opt, (lr_end / lr) ** (1.0 / steps))

            def objective(A=A, B=B):
                return 0.5 * ((forward(A, B) - yt) ** 2).sum() + 0.5 * beta * ((A**2).sum() + (B**2).sum())

            for _ in range(steps):
                opt.zero_grad()
                objective().backward()
                opt.step()
                sched.step()
            with torch.no_grad():
                finals.append((float(objective()), A.detach().numpy().copy(), B.detach().numpy().copy()))
    return finals
