"""Input validation at the public boundary: shapes, finiteness, signs, patterns, seeds, options.

Every check raises ``ValueError``/``TypeError`` whose message names the argument and the fix. One rule for
targets everywhere: scalar targets are ``(n,)``; a single column ``(n, 1)`` is flattened to ``(n,)``; wider
``(n, c)`` targets are accepted only where a function says so. Complex input is refused, never cast.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

LOSSES = ("squared", "hinge", "logistic")


def _refuse_complex(value: object, name: str) -> None:
    if np.iscomplexobj(value):
        raise TypeError(f"{name} is complex; pass real numbers (e.g. {name}.real if the imaginary part is zero)")


def check_X(X: object, name: str = "X") -> np.ndarray:
    """Return ``X`` as a finite float64 array of shape ``(n, d)``."""
    _refuse_complex(X, name)
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array of shape (n, d); got {type(X).__name__}") from exc
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must have shape (n, d), got shape {arr.shape}; reshape a single feature with {name}.reshape(-1, 1)"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must have at least one row and one column, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf; remove or impute those entries first")
    return arr


def check_y(y: object, n: int, name: str = "y", allow_2d: bool = False) -> np.ndarray:
    """Return ``y`` as a finite float64 array of shape ``(n,)`` (or ``(n, c)`` if ``allow_2d``).

    A single column ``(n, 1)`` is flattened to ``(n,)`` unless ``allow_2d``.
    """
    _refuse_complex(y, name)
    try:
        arr = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array; got {type(y).__name__}") from exc
    if arr.ndim == 2 and arr.shape[1] == 1 and not allow_2d:
        arr = arr[:, 0]
    if arr.ndim not in ((1, 2) if allow_2d else (1,)):
        shapes = "(n,) or (n, c)" if allow_2d else "(n,)"
        raise ValueError(f"{name} must have shape {shapes}, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} rows but X has {n}; X and {name} must describe the same samples")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf; remove those samples first")
    return arr


def check_X_y(X: object, y: object, allow_2d: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``X`` ``(n, d)`` and ``y`` ``(n,)`` together."""
    Xa = check_X(X)
    return Xa, check_y(y, Xa.shape[0], allow_2d=allow_2d)


def _real(value: object, name: str, kind: str) -> float:
    """``value`` as a float; a ``TypeError`` saying ``name must be a <kind> number`` for anything not a real number."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a {kind} number, got {value!r}")
    return float(value)


def check_beta(beta: object, name: str = "beta") -> float:
    """Return the regularisation strength as a float ``>= 0``."""
    b = _real(beta, name, "non-negative")
    if not np.isfinite(b) or b < 0:
        raise ValueError(f"{name} must be a finite number >= 0 (the weight-decay strength), got {beta!r}")
    return b


def check_patterns(D: object, n: int, name: str = "patterns") -> np.ndarray:
    """Return activation patterns as a boolean array of shape ``(n, P)`` with ``P >= 1``."""
    arr = np.asarray(D)
    if arr.dtype != np.bool_:
        raise TypeError(
            f"{name} must be a boolean array of shape (n, P) (True where a neuron is active), got dtype "
            f"{arr.dtype}; build it with cvxnn_core.patterns.sample_patterns or compare, e.g. X @ G >= 0"
        )
    if arr.ndim != 2 or arr.shape[0] != n:
        raise ValueError(f"{name} must have shape (n, P) = ({n}, P), got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} is empty (P = 0); sample at least one pattern with sample_patterns(X, n_patterns)")
    return arr


def check_loss(loss: str) -> str:
    """Return ``loss`` if it is one of :data:`LOSSES`."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    return loss


def check_labels_pm1(y: np.ndarray, loss: str, name: str = "y") -> None:
    """Hinge and logistic losses need labels in ``{-1, +1}``."""
    if loss in ("hinge", "logistic") and not np.all(np.isin(y, (-1.0, 1.0))):
        bad = np.unique(y[~np.isin(y, (-1.0, 1.0))])[:5]
        raise ValueError(
            f"loss={loss!r} needs {name} in {{-1, +1}}; found values such as {bad.tolist()}. "
            f"Map binary labels with y = np.where(labels == positive, 1.0, -1.0)"
        )


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` as an ``int >= 1``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_seed(seed: object, name: str = "seed") -> int:
    """Return an integer seed ``>= 0`` (every random draw in this package takes one)."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {seed!r}")
    return int(seed)


def check_positive_number(value: object, name: str) -> float:
    """Return ``value`` as a finite float ``> 0`` (a step size, a tolerance, a scale)."""
    out = _real(value, name, "positive")
    if not np.isfinite(out) or out <= 0:
        raise ValueError(f"{name} must be a positive number (finite and > 0), got {value!r}")
    return out


def check_nonnegative_number(value: object, name: str) -> float:
    """Return ``value`` as a finite float ``>= 0`` (a noise level, a margin)."""
    out = _real(value, name, "non-negative")
    if not np.isfinite(out) or out < 0:
        raise ValueError(f"{name} must be a non-negative number (finite and >= 0), got {value!r}")
    return out


def check_same_targets(f: object, y: object, name: str = "f", *, finite: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Return predictions ``f`` and targets ``y`` of one shape: a single column of either is flattened first.

    Any other difference (length, number of outputs) is an error: nothing is broadcast. ``y`` must be finite, and
    ``f`` too when ``finite`` (a dual point; predictions of a diverged model may be non-finite, giving a non-finite
    loss that the caller sees).
    """
    _refuse_complex(f, name)
    _refuse_complex(y, "y")
    try:
        fa, ya = np.asarray(f, dtype=np.float64), np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} and y must be numeric arrays") from exc
    if not np.all(np.isfinite(ya)):
        raise ValueError("y contains NaN or inf; remove those samples first")
    if finite and not np.all(np.isfinite(fa)):
        raise ValueError(f"{name} contains NaN or inf")
    if fa.ndim == 2 and fa.shape[1] == 1:
        fa = fa[:, 0]
    if ya.ndim == 2 and ya.shape[1] == 1:
        ya = ya[:, 0]
    if fa.shape != ya.shape:
        raise ValueError(
            f"{name} has shape {np.shape(f)} but y has shape {np.shape(y)}; predictions and targets must describe "
            "the same samples and outputs"
        )
    return fa, ya


def check_torch_dtype(dtype: object, name: str = "dtype"):
    """Return a torch floating dtype: ``torch.float32``/``torch.float64`` or the names ``"float32"``/``"float64"``."""
    import torch

    table = {"float32": torch.float32, "float64": torch.float64, torch.float32: torch.float32,
             torch.float64: torch.float64}
    if dtype not in table:
        raise ValueError(f"{name} must be torch.float32, torch.float64, 'float32' or 'float64', got {dtype!r}")
    return table[dtype]


def check_torch_device(device: object, name: str = "device"):
    """Return a usable ``torch.device``: ``"cpu"``, or ``"cuda"``/``"cuda:<k>"`` when torch sees that device."""
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"{name} must be 'cpu', 'cuda' or 'cuda:<k>', got {device!r}") from exc
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"{name} must be 'cpu' or 'cuda', got {device!r}")
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"{name}={device!r}: CUDA is not available on this machine (torch sees no GPU); "
                             "available devices: 'cpu'")
        if dev.index is not None and dev.index >= count:
            raise ValueError(f"{name}={device!r}: torch sees {count} CUDA device(s), 'cuda:0'..'cuda:{count - 1}'")
    return dev


def check_choice(value: str, name: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


# --------------------------------------------------------------------------------------------------------------
# Vector targets, layer lists, class labels, whitened data
# --------------------------------------------------------------------------------------------------------------


def check_Y(Y: object, n: int, name: str = "Y") -> np.ndarray:
    """``Y`` as a finite ``(n, c)`` float array with ``c >= 1`` (a vector ``(n,)`` becomes ``(n, 1)``)."""
    arr = check_y(Y, n, name=name, allow_2d=True)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.shape[1] == 0:
        raise ValueError(f"{name} must have at least one column (c >= 1), got shape (n, 0)")
    return arr


def check_X_Y(X: object, Y: object) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``X`` ``(n, d)`` and vector targets ``Y`` ``(n, c)`` (a 1-D ``Y`` ``(n,)`` becomes ``(n, 1)``)."""
    Xa = check_X(X)
    return Xa, check_Y(Y, Xa.shape[0])


def check_n_layers(n_layers: object) -> int:
    """Return the depth ``L >= 2`` of a deep network."""
    if isinstance(n_layers, bool) or not isinstance(n_layers, int | np.integer) or n_layers < 2:
        raise ValueError(f"n_layers must be an integer >= 2 (a deep net has at least two layers), got {n_layers!r}")
    return int(n_layers)


def check_layers(weights: object, name: str = "weights") -> list[np.ndarray]:
    """A non-empty list of finite 2-D layers that chain (``f = X W_1 W_2 ... W_L``)."""
    if not isinstance(weights, Sequence) or isinstance(weights, str | np.ndarray) or len(weights) == 0:
        raise TypeError(f"{name} must be a non-empty list of 2-D arrays (one per layer), got {type(weights).__name__}")
    out = []
    for i, W in enumerate(weights):
        W = np.asarray(W, dtype=np.float64)
        if W.ndim != 2 or 0 in W.shape:
            raise ValueError(f"{name}[{i}] must be a 2-D array with at least one row and one column, got shape "
                             f"{W.shape}")
        if not np.all(np.isfinite(W)):
            raise ValueError(f"{name}[{i}] contains NaN or inf")
        if i > 0 and out[-1].shape[1] != W.shape[0]:
            raise ValueError(
                f"{name}[{i - 1}] has {out[-1].shape[1]} columns but {name}[{i}] has {W.shape[0]} rows; "
                "consecutive layers must chain (f = X W_1 W_2 ... W_L)"
            )
        out.append(W)
    return out


def check_class_labels(labels: object, n: int, name: str = "labels") -> tuple[np.ndarray, int]:
    """Integer class indices ``(n,)`` using every class ``0..C-1`` (``C >= 2``); returns ``(labels, C)``."""
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name} must have shape (n,) = ({n},), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be integer class indices 0..C-1, got dtype {arr.dtype}")
    if n == 0:
        raise ValueError(f"{name} is empty")
    C = int(arr.max()) + 1
    if arr.min() < 0 or C < 2 or np.any(np.bincount(arr, minlength=C) == 0):
        raise ValueError(f"{name} must use every class 0..C-1 at least once with C >= 2; got classes {np.unique(arr)}")
    return arr.astype(np.int64), C


def check_whitened(X: np.ndarray, atol: float, *, rows: bool, who: str, fix: str) -> None:
    """Refuse ``X`` unless ``X X^T = I_n`` (``rows``; needs ``n <= d``) or ``X^T X = I_d`` within ``atol`` entrywise.

    ``who`` names the closed form in the message and ``fix`` says how to whiten (or what to solve instead).
    """
    atol = check_nonnegative_number(atol, "atol")
    n, d = X.shape
    if rows:
        label, gram, possible = "X X^T = I_n (orthonormal rows)", X @ X.T, n <= d
        impossible = f"n = {n} > d = {d}; the closed form holds for n <= d only"
    else:
        label, gram, possible = "X^T X = I_d (orthonormal columns)", X.T @ X, n >= d
        impossible = f"n = {n} < d = {d}"
    if not possible:
        raise ValueError(f"{who} needs whitened X ({label}), impossible for {impossible}")
    err = float(np.max(np.abs(gram - np.eye(gram.shape[0]))))
    if not err <= atol:
        raise ValueError(f"{who} needs whitened X, {label}; max |deviation| = {err:.3g} > atol = {atol:.3g}. {fix}")


# --------------------------------------------------------------------------------------------------------------
# Integers, pairs, optimizers, solvers, networks
# --------------------------------------------------------------------------------------------------------------


def check_nonnegative_int(value: object, name: str) -> int:
    """Return ``value`` as an ``int >= 0`` (a padding, a count that may be zero)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def check_int_pair(value: object, name: str) -> tuple[int, int]:
    """A positive int ``k`` (meaning ``(k, k)``) or a pair ``(rows, cols)`` of positive ints."""
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (rows, cols), got {value!r}")
        return check_positive_int(value[0], name), check_positive_int(value[1], name)
    v = check_positive_int(value, name)
    return v, v


def check_optimizer(
    optimizer: str, lr: object, defaults: Mapping[str, float], momentum: object = 0.0
) -> tuple[str, float, float]:
    """``(optimizer, lr, momentum)``: ``optimizer`` one of ``defaults``' keys, ``lr > 0`` (``None``: its default),
    ``momentum >= 0`` (SGD only)."""
    optimizer = check_choice(optimizer, "optimizer", tuple(defaults))
    lr = float(defaults[optimizer]) if lr is None else check_positive_number(lr, "lr")
    momentum = check_nonnegative_number(momentum, "momentum")
    if momentum != 0 and optimizer != "sgd":
        raise ValueError(f"momentum applies to optimizer='sgd' only (got optimizer={optimizer!r}); leave momentum=0")
    return optimizer, lr, momentum


def check_penalised_bias(net: object, what: str) -> None:
    """Refuse a network with a free (unpenalised) output bias where ``what`` needs every weight penalised."""
    if getattr(net, "free_bias", False):
        raise ValueError(f"{what} is defined for networks whose every weight is penalised (free_bias=False)")


# --------------------------------------------------------------------------------------------------------------
# Arguments of one architecture: batch-norm weights, CNN channels, NTK kernels, vector-output training
# --------------------------------------------------------------------------------------------------------------


def check_ks(ks: Sequence[int] | np.ndarray, r: int) -> np.ndarray:
    """Integer ranks ``k`` in ``[1, r]`` (top-``k`` singular directions of rank-``r`` data), as an int array."""
    arr = np.asarray(ks).reshape(-1)
    if arr.size == 0 or not np.issubdtype(arr.dtype, np.integer) or np.any(arr < 1) or np.any(arr > r):
        raise ValueError(f"ks must hold integers in [1, r = {r}], got {np.asarray(ks).tolist()}")
    return arr.astype(int)


def check_bn_weights(W1, gamma, alpha, w2) -> tuple[np.ndarray, ...]:
    """A batch-norm layer: ``W1`` ``(m, d)`` and finite ``gamma``, ``alpha``, ``w2`` of shape ``(m,)`` each."""
    W1 = np.atleast_2d(np.asarray(W1, dtype=np.float64))
    m = W1.shape[0]
    out = [W1]
    for name, v in (("gamma", gamma), ("alpha", alpha), ("w2", w2)):
        arr = np.asarray(v, dtype=np.float64).reshape(-1)
        if arr.shape != (m,):
            raise ValueError(f"{name} must have shape (m,) = ({m},) to match W1 {W1.shape}, got {arr.shape}")
        out.append(arr)
    if not all(np.all(np.isfinite(a)) for a in out):
        raise ValueError("W1, gamma, alpha and w2 must be finite")
    return tuple(out)


def check_channels(X: np.ndarray, U: np.ndarray, W2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Circular-CNN filters ``U`` and output weights ``W2``, both ``(m, d)`` for ``X`` ``(n, d)``."""
    _refuse_complex(U, "U")
    _refuse_complex(W2, "W2")
    U = np.atleast_2d(np.asarray(U, dtype=np.float64))
    W2 = np.atleast_2d(np.asarray(W2, dtype=np.float64))
    d = X.shape[1]
    if U.ndim != 2 or U.shape[1] != d or W2.shape != U.shape or U.shape[0] == 0:
        raise ValueError(f"U and W2 must both have shape (m, d) with m >= 1 and d = {d}, got {U.shape} and "
                         f"{W2.shape}")
    if not (np.all(np.isfinite(U)) and np.all(np.isfinite(W2))):
        raise ValueError("U and W2 contain NaN or inf; pass finite filters and output weights")
    return U, W2


def check_pair(X: object, Z: object) -> tuple[np.ndarray, np.ndarray]:
    """Two input sets ``X`` ``(n_X, d)`` and ``Z`` ``(n_Z, d)`` of one dimension (the arguments of a kernel)."""
    X = check_X(X, "X")
    Z = check_X(Z, "Z")
    if X.shape[1] != Z.shape[1]:
        raise ValueError(
            f"X has {X.shape[1]} columns but Z has {Z.shape[1]}; both must hold inputs of the same dimension "
            "(append the same intercept column to both)"
        )
    return X, Z


def check_kernel_regression(K_train: object, y: object, K_test: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A symmetric ``K_train`` ``(n, n)``, targets ``y`` ``(n,)`` and ``K_test`` ``(n_test, n)``."""
    K_train = check_X(K_train, "K_train")
    n = K_train.shape[0]
    if K_train.shape != (n, n):
        raise ValueError(f"K_train must be a square (n, n) kernel matrix, got shape {K_train.shape}")
    if not np.allclose(K_train, K_train.T, rtol=1e-10, atol=1e-12 * max(1.0, float(np.abs(K_train).max()))):
        raise ValueError("K_train must be symmetric (K(X_train, X_train)); did you pass K(X_test, X_train)?")
    y = check_y(y, n)
    K_test = check_X(K_test, "K_test")
    if K_test.shape[1] != n:
        raise ValueError(
            f"K_test must have shape (n_test, {n}) (test inputs by training inputs), got {K_test.shape}; "
            "build it as ntk_two_layer(X_test, X_train)"
        )
    return K_train, y, K_test


def check_ntk_weights(W1: object, a: object, d: int) -> tuple[np.ndarray, np.ndarray]:
    """NTK network weights: ``W1`` ``(m, d)`` and output weights ``a`` ``(m,)``."""
    W1 = check_X(W1, "W1")
    if W1.shape[1] != d:
        raise ValueError(f"W1 must have shape (m, {d}) to match the inputs, got {W1.shape}")
    a = check_y(a, W1.shape[0], "a")
    return W1, a


def check_vector_training(X, Y, width, beta, optimizer, lr, defaults, epochs, init_scale, batch_size,
                          max_entries=50_000_000):
    """Arguments of a vector-output training run; returns ``(X, Y, width, beta, optimizer, lr, epochs, batch)``.
    More than ``max_entries`` weights and activations (``width (n + d + c)``) are refused."""
    X, Y = check_X_Y(X, Y)
    beta = check_beta(beta)
    width = check_positive_int(width, "width")
    limit = check_positive_int(max_entries, "max_entries")
    if width * (X.shape[0] + X.shape[1] + Y.shape[1]) > limit:
        raise ValueError(f"this call would build weights and activations, entries: about "
                         f"{width * (X.shape[0] + X.shape[1] + Y.shape[1]):,} (max_entries = {limit:,}); use a "
                         "smaller width, or pass a larger max_entries to go ahead")
    epochs = check_positive_int(epochs, "epochs")
    optimizer, lr, _ = check_optimizer(optimizer, lr, defaults)
    check_positive_number(init_scale, "init_scale")
    batch = X.shape[0] if batch_size is None else min(check_positive_int(batch_size, "batch_size"), X.shape[0])
    return X, Y, width, beta, optimizer, lr, epochs, batch
