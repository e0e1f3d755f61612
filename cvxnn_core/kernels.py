r"""Neural tangent kernels (NTK) of two-layer ReLU networks, in closed form and at finite width.

Parameterisation (the "NTK parameterisation"; Jacot et al. 2018, Arora et al. 2019). A width-``m``
network on inputs ``x`` in ``R^d`` (append the ones column of :func:`cvxnn_core.datasets.add_intercept`
for a bias, exactly as for the convex programs) is

    f(x) = (1 / sqrt(m)) * sum_{j=1}^m a_j (w_j^T x)_+,     w_j ~ N(0, I_d),  a_j ~ N(0, 1)  (i.i.d.).

``W1`` is the ``(m, d)`` array of the ``w_j`` and ``a`` the ``(m,)`` array of the ``a_j``. In the
book's plain parameterisation ``f = (X W1^T)_+ w2`` this is the network with ``w2 = a / sqrt(m)``.

Arc-cosine kernels (Cho & Saul, NIPS 2009). With ``theta`` the angle between ``x`` and ``z``::

    k_0(x, z) = 1 - theta / pi
    k_1(x, z) = (1 / pi) * ||x|| ||z|| * (sin(theta) + (pi - theta) cos(theta))

and ``k_p(x, z) = 2 * E_{w ~ N(0, I)}[ 1[w^T x > 0] 1[w^T z > 0] (w^T x)^p (w^T z)^p ]``.

The tangent kernel ``K(x, z) = <grad_theta f(x), grad_theta f(z)>`` splits over the two layers:

* first layer (gradients w.r.t. ``W1``):
  ``(1/m) sum_j a_j^2 1[w_j^T x > 0] 1[w_j^T z > 0] x^T z  ->  (x^T z) k_0(x, z) / 2``;
* second layer (gradients w.r.t. ``a``):
  ``(1/m) sum_j (w_j^T x)_+ (w_j^T z)_+  ->  k_1(x, z) / 2``;
* both layers: the sum, ``(x^T z) k_0(x, z) / 2 + k_1(x, z) / 2``.

The limits are almost sure as ``m -> infinity``; at width ``m`` each entry of the empirical kernel is
an average of ``m`` i.i.d. terms, so it deviates from the limit by ``O(1 / sqrt(m))``.

Finite width and training. :func:`ntk_jacobian` and :func:`empirical_ntk` build the tangent kernel of a
given network explicitly; :func:`lazy_gradient_descent` trains the NTK-parameterised network by
full-batch gradient descent (no weight decay) from an antisymmetric initialisation (``f = 0`` at the
start); :func:`kernel_gradient_descent` is what the same gradient descent does when the kernel is frozen,
and :func:`kernel_regression` is its limit in time (the minimum-norm interpolant).

Kernel matrices follow the shape convention ``K[i, j] = K(X[i], Z[j])``: ``(n_X, n_Z)``. For kernel
regression, ``K_train = K(X_train, X_train)`` and ``K_test = K(X_test, X_train)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from cvxnn_core._shapes import MAX_ENTRIES, check_size
from cvxnn_core._validation import (
    check_choice,
    check_kernel_regression,
    check_nonnegative_number,
    check_ntk_weights,
    check_pair,
    check_positive_int,
    check_positive_number,
    check_seed,
    check_X,
    check_X_y,
)

Layers = Literal["both", "first", "second"]
LAYERS = ("both", "first", "second")
_CHUNK_ENTRIES = 4_000_000  # floats per temporary array in _angles


def _angles(X: np.ndarray, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Angles ``theta`` ``(n_X, n_Z)`` and the norm products ``||x|| ||z||``.

    ``theta = 2 atan2(||u - v||, ||u + v||)`` for the unit vectors ``u = x/||x||``, ``v = z/||z||``
    (Kahan's formula): accurate to rounding for every angle, whereas ``arccos(cos theta)`` loses half
    the digits near ``0`` and ``pi`` (an error ``~ 1e-8`` on the diagonal). A zero input gets
    ``theta = pi/2``. Rows of ``X`` are processed in chunks to bound memory.
    """
    nx, nz = np.linalg.norm(X, axis=1), np.linalg.norm(Z, axis=1)
    U = np.divide(X, nx[:, None], out=np.zeros_like(X), where=nx[:, None] > 0)
    V = np.divide(Z, nz[:, None], out=np.zeros_like(Z), where=nz[:, None] > 0)
    theta = np.empty((X.shape[0], Z.shape[0]))
    chunk = max(1, _CHUNK_ENTRIES // max(1, Z.size))
    for lo in range(0, X.shape[0], chunk):
        u = U[lo : lo + chunk, None, :]
        theta[lo : lo + chunk] = 2.0 * np.arctan2(
            np.linalg.norm(u - V[None], axis=2), np.linalg.norm(u + V[None], axis=2)
        )
    zero = (nx[:, None] == 0) | (nz[None, :] == 0)
    theta[zero] = np.pi / 2
    return theta, nx[:, None] * nz[None, :]


def arccos_kernel(X: np.ndarray, Z: np.ndarray, degree: Literal[0, 1] = 1) -> np.ndarray:
    r"""Arc-cosine kernel of Cho & Saul, degree 0 or 1: ``(n_X, n_Z)`` matrix ``k_p(X[i], Z[j])``.

    ``k_0 = 1 - theta/pi`` and ``k_1 = ||x|| ||z|| (sin theta + (pi - theta) cos theta) / pi``, where
    ``theta`` is the angle between ``x`` and ``z``; equivalently
    ``k_p(x, z) = 2 E_{w ~ N(0, I)}[1[w^T x > 0] 1[w^T z > 0] (w^T x)^p (w^T z)^p]``.
    For a zero input the angle is undefined; it is set to ``pi/2``, which gives the exact ``k_1 = 0`` and
    ``k_0 = 1/2`` (a convention; in the NTK ``k_0`` is multiplied by ``x^T z = 0`` there, so it never matters).
    """
    X, Z = check_pair(X, Z)
    if degree not in (0, 1) or isinstance(degree, bool):
        raise ValueError(f"degree must be 0 or 1, got {degree!r}")
    theta, norms = _angles(X, Z)
    if degree == 0:
        return 1.0 - theta / np.pi
    return norms * (np.sin(theta) + (np.pi - theta) * np.cos(theta)) / np.pi


def ntk_two_layer(X: np.ndarray, Z: np.ndarray, *, layers: Layers = "both") -> np.ndarray:
    r"""Infinite-width NTK of ``f(x) = (1/sqrt(m)) sum_j a_j (w_j^T x)_+`` at Gaussian initialisation.

    ``layers="first"``: ``(x^T z) k_0(x, z) / 2`` (gradients w.r.t. ``W1`` only, ``a`` frozen);
    ``layers="second"``: ``k_1(x, z) / 2`` (gradients w.r.t. ``a`` only: the random-features kernel);
    ``layers="both"``: their sum. Returns the ``(n_X, n_Z)`` matrix ``K(X[i], Z[j])``.
    """
    X, Z = check_pair(X, Z)
    layers = check_choice(layers, "layers", LAYERS)  # type: ignore[assignment]
    K = np.zeros((X.shape[0], Z.shape[0]))
    if layers in ("both", "first"):
        K += 0.5 * (X @ Z.T) * arccos_kernel(X, Z, 0)
    if layers in ("both", "second"):
        K += 0.5 * arccos_kernel(X, Z, 1)
    return K


def kernel_regression(K_train: np.ndarray, y: np.ndarray, K_test: np.ndarray, ridge: float = 0.0) -> np.ndarray:
    r"""Kernel (ridge) regression predictions ``K_test @ alpha``.

    ``ridge > 0``: ``alpha = (K_train + ridge I)^{-1} y``. ``ridge = 0``: the minimum-norm interpolant,
    ``alpha = K_train^+ y`` computed by least squares (``numpy.linalg.lstsq``, cut-off at
    ``n * eps * sigma_max``), so a singular ``K_train`` is handled: ``alpha`` is then the minimum-norm
    least-squares solution, the predictor interpolates ``y`` whenever ``y`` lies in the range of
    ``K_train`` and is otherwise the RKHS projection of the data onto that range.

    Args:
        K_train: ``(n, n)`` symmetric kernel matrix of the training inputs.
        y: targets ``(n,)``.
        K_test: ``(n_test, n)`` kernel between test inputs (rows) and training inputs (columns).
        ridge: regularisation ``>= 0``.
    """
    K_train, y, K_test = check_kernel_regression(K_train, y, K_test)
    n = K_train.shape[0]
    ridge = check_nonnegative_number(ridge, "ridge")
    if ridge > 0:
        alpha = np.linalg.solve(K_train + ridge * np.eye(n), y)
    else:
        alpha = np.linalg.lstsq(K_train, y, rcond=n * np.finfo(float).eps)[0]
    return K_test @ alpha


def kernel_gradient_descent(
    K_train: np.ndarray, y: np.ndarray, K_test: np.ndarray, *, lr: float, steps: int
) -> np.ndarray:
    r"""Predictions after ``steps`` steps of gradient descent on the kernel model, started from ``f = 0``.

    Gradient descent with step ``lr`` on ``0.5 ||K alpha - y||^2`` in function space,
    ``f_{t+1}(X) = f_t(X) - lr * K (f_t(X) - y)``, gives ``alpha_T = K^+ (I - (I - lr K)^T) y``; in the
    eigenbasis ``K = U diag(lambda) U^T``: ``alpha_T = U diag((1 - (1 - lr lambda)^T) / lambda) U^T y``
    (the factor is ``lr * T`` for ``lambda = 0``). This is what a network whose tangent kernel stays
    equal to ``K`` computes; as ``T -> infinity`` (with ``0 < lr < 2 / lambda_max``) it tends to
    :func:`kernel_regression` with ``ridge = 0`` (up to the null space of ``K``). Returns ``K_test @ alpha_T``.
    """
    K_train, y, K_test = check_kernel_regression(K_train, y, K_test)
    steps = check_positive_int(steps, "steps")
    lr = check_positive_number(lr, "lr")
    lam, U = np.linalg.eigh(0.5 * (K_train + K_train.T))
    q = 1.0 - lr * lam
    factor = np.full_like(lam, lr * steps)  # the limit lambda -> 0
    pos, neg = (lam > 0) & (q > 0), (lam > 0) & (q <= 0)
    factor[pos] = -np.expm1(steps * np.log(q[pos])) / lam[pos]  # accurate for small lr * lambda
    factor[neg] = (1.0 - q[neg] ** steps) / lam[neg]
    return K_test @ (U @ (factor * (U.T @ y)))


def ntk_network(X: np.ndarray, W1: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Predictions ``(1/sqrt(m)) (X W1^T)_+ a`` of the NTK-parameterised network, shape ``(n,)``."""
    X = check_X(X)
    W1, a = check_ntk_weights(W1, a, X.shape[1])
    return np.maximum(X @ W1.T, 0.0) @ a / np.sqrt(W1.shape[0])


def ntk_jacobian(X: np.ndarray, W1: np.ndarray, a: np.ndarray, *, layers: Layers = "both") -> np.ndarray:
    r"""Explicit Jacobian of ``f(x) = (1/sqrt(m)) sum_j a_j (w_j^T x)_+`` w.r.t. the parameters.

    Row ``i`` holds ``d f(X[i]) / d vec(W1)`` (``m * d`` entries, neuron-major:
    ``a_j 1[w_j^T x > 0] x / sqrt(m)``) followed by ``d f(X[i]) / d a`` (``m`` entries,
    ``(w_j^T x)_+ / sqrt(m)``); ``layers`` keeps only the first or second block.
    Shape ``(n, m * d + m)``, ``(n, m * d)`` or ``(n, m)``.
    """
    X = check_X(X)
    W1, a = check_ntk_weights(W1, a, X.shape[1])
    layers = check_choice(layers, "layers", LAYERS)  # type: ignore[assignment]
    m = W1.shape[0]
    pre = X @ W1.T  # (n, m)
    blocks = []
    if layers in ("both", "first"):
        gates = (pre > 0) * a[None, :]  # (n, m)
        blocks.append((gates[:, :, None] * X[:, None, :]).reshape(X.shape[0], -1))
    if layers in ("both", "second"):
        blocks.append(np.maximum(pre, 0.0))
    return np.concatenate(blocks, axis=1) / np.sqrt(m)


def empirical_ntk(
    X: np.ndarray, Z: np.ndarray, W1: np.ndarray, a: np.ndarray, *, layers: Layers = "both"
) -> np.ndarray:
    r"""Finite-width NTK ``J(X) J(Z)^T`` of the network ``(W1, a)`` (see :func:`ntk_jacobian`).

    At ``W1 ~ N(0, I)``, ``a ~ N(0, 1)`` it is an average of ``m`` i.i.d. per-neuron terms whose mean
    is :func:`ntk_two_layer`; the explicit Jacobians are built, so memory is ``O((n_X + n_Z) m d)``.
    """
    X, Z = check_pair(X, Z)
    return ntk_jacobian(X, W1, a, layers=layers) @ ntk_jacobian(Z, W1, a, layers=layers).T


@dataclass(frozen=True)
class LazyTrainResult:
    """Outcome of :func:`lazy_gradient_descent`.

    ``W1`` ``(m, d)`` and ``a`` ``(m,)``: final weights (NTK parameterisation); ``W1_init``, ``a_init``: the
    initial ones; ``history``: the loss ``0.5 ||f(X) - y||^2`` before each step, ``(steps,)``; ``loss``:
    the loss at the returned weights; ``lr``, ``seed``, ``layers``.
    """

    W1: np.ndarray
    a: np.ndarray
    W1_init: np.ndarray
    a_init: np.ndarray
    history: np.ndarray
    loss: float
    lr: float
    seed: int
    layers: str

    @property
    def width(self) -> int:
        """Number of neurons ``m``."""
        return int(self.a.shape[0])

    @property
    def relative_movement(self) -> float:
        """``||theta - theta_0|| / ||theta_0||`` over the trained parameters: small means lazy."""
        moved, size = 0.0, 0.0
        if self.layers != "second":
            moved += float(np.sum((self.W1 - self.W1_init) ** 2))
            size += float(np.sum(self.W1_init**2))
        if self.layers != "first":
            moved += float(np.sum((self.a - self.a_init) ** 2))
            size += float(np.sum(self.a_init**2))
        return float(np.sqrt(moved / size))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """``(1/sqrt(m)) (X W1^T)_+ a`` at the trained weights, shape ``(n,)``."""
        return ntk_network(X, self.W1, self.a)


def lazy_gradient_descent(
    X: np.ndarray,
    y: np.ndarray,
    width: int,
    *,
    steps: int,
    lr: float | None = None,
    seed: int = 0,
    layers: Layers = "both",
    max_entries: int = MAX_ENTRIES,
) -> LazyTrainResult:
    r"""Full-batch gradient descent on ``0.5 ||f(X) - y||^2`` (no weight decay) in the NTK parameterisation.

    ``f(x) = (1/sqrt(m)) sum_j a_j (w_j^T x)_+``, antisymmetric ("doubling") initialisation: draw
    ``w_j ~ N(0, I_d)``, ``a_j ~ N(0, 1)`` for ``j <= m/2`` and set ``w_{j + m/2} = w_j``,
    ``a_{j + m/2} = -a_j``, so that ``f = 0`` at initialisation while the tangent kernel there is an
    average of ``m/2`` i.i.d. terms with mean :func:`ntk_two_layer`. As ``m -> infinity`` the weights
    move by ``O(1/sqrt(m))`` (relative), the kernel stays at its initial value and the trained network
    converges to the kernel gradient-descent predictor, whose limit in time is the minimum-norm NTK
    interpolant :func:`kernel_regression` (Jacot et al. 2018; Chizat, Oyallon & Bach 2019).

    Updates ``W1 <- W1 - lr * dL/dW1`` and ``a <- a - lr * dL/da`` with
    ``dL/da = (X W1^T)_+^T r / sqrt(m)``, ``dL/dw_j = a_j sum_i r_i 1[w_j^T x_i > 0] x_i / sqrt(m)``,
    ``r = f(X) - y``; ``layers`` trains only the first or the second layer (the other stays at its
    initial value). ``lr`` defaults to ``1 / lambda_max`` of the limiting kernel matrix
    ``ntk_two_layer(X, X, layers=layers)`` (stable for gradient descent on the linearised model).

    Args:
        X, y: data ``(n, d)`` (with the intercept column) and targets ``(n,)``.
        width: number of neurons ``m`` (even).
        steps: number of gradient steps.
        lr: step size ``> 0``; ``None`` for ``1 / lambda_max``.
        seed: seeds the initialisation.
        layers: ``"both"``, ``"first"`` or ``"second"``.
    """
    X, y = check_X_y(X, y)
    width = check_positive_int(width, "width")
    if width % 2:
        raise ValueError(f"width must be even (the initialisation uses antisymmetric pairs of neurons), got {width}")
    steps = check_positive_int(steps, "steps")
    check_size(width * (X.shape[0] + X.shape[1]) + steps, check_positive_int(max_entries, "max_entries"),
               what="neurons, activations and history, entries", keyword="max_entries",
               alternative="use a smaller width or fewer steps")
    seed = check_seed(seed)
    layers = check_choice(layers, "layers", LAYERS)  # type: ignore[assignment]
    if lr is None:
        lr = 1.0 / float(np.linalg.eigvalsh(ntk_two_layer(X, X, layers=layers))[-1])
    else:
        lr = check_positive_number(lr, "lr")
    rng = np.random.default_rng(seed)
    half = width // 2
    W = rng.standard_normal((half, X.shape[1]))
    a0 = rng.standard_normal(half)
    W1_init, a_init = np.concatenate([W, W]), np.concatenate([a0, -a0])
    W1, a = W1_init.copy(), a_init.copy()
    scale = 1.0 / np.sqrt(width)
    history = np.empty(steps)
    for t in range(steps):
        pre = W1 @ X.T  # (m, n)
        gates = (pre > 0).astype(np.float64)
        act = pre * gates
        r = (a @ act) * scale - y
        history[t] = 0.5 * float(r @ r)
        if not np.isfinite(history[t]):
            raise FloatingPointError(f"gradient descent diverged at step {t}; lower lr (now {lr})")
        if layers != "second":
            grad_W1 = (gates @ (r[:, None] * X)) * (a * scale)[:, None]
        if layers != "first":
            a = a - lr * ((act @ r) * scale)
        if layers != "second":
            W1 = W1 - lr * grad_W1
    r = ntk_network(X, W1, a) - y
    return LazyTrainResult(
        W1=W1,
        a=a,
        W1_init=W1_init,
        a_init=a_init,
        history=history,
        loss=0.5 * float(r @ r),
        lr=float(lr),
        seed=seed,
        layers=layers,
    )
