r"""Attention and MLP-Mixer heads: their non-convex forward passes and the linear maps of their lifted programs.

Data are ``n`` samples of ``s`` tokens with ``d`` features, an array ``Xs`` ``(n, s, d)``; outputs are token-level
``(n, s, c)`` or pooled over tokens ``(n, c)``. Heads run in parallel and their outputs are summed; no softmax,
residual or normalisation (our models; the paper's exact parametrisation was not available).

* **linear self-attention** (merged query-key ``W1`` ``(d, d)`` and value-output ``W2`` ``(d, c)``):
  ``f(X) = sum_j (X W1_j X^T) X W2_j``;
* **gated self-attention** (fixed gate ``H`` ``(d, d)``, mask ``M = 1[X H X^T >= 0]``):
  ``f(X) = sum_j (M o (X W1_j X^T)) X W2_j``;
* **ReLU self-attention** (the gate is the head's own ``W1``): ``f(X) = sum_j (X W1_j X^T)_+ X W2_j``;
* **linear MLP-Mixer block** (token mixing ``T`` ``(s, s)``, channel mixing ``W`` ``(d, c)``):
  ``f(X) = sum_j T_j X W_j``.

Each head is bilinear in its two weights, so ``f = L_X(Z)`` with ``Z = sum_j vec(A_j) vec(B_j)^T`` (row-major
``vec``): ``Z[(a, p), (q, k)] = sum_j W1_j[a, p] W2_j[q, k]`` for attention, ``Z[(t, t'), (q, k)] = sum_j T_j[t, t']
W_j[q, k]`` for the Mixer. The maps below are the explicit formulas

    linear attention:  F_i(Z)[t, k] = sum_{a,p,q} X_i[t, a] G_i[p, q] Z[(a, p), (q, k)],   G_i = X_i^T X_i
    gated attention:   F_i(Z)[t, k] = sum_{a,b,q} X_i[t, a] G_{i,t}[b, q] Z[(a, b), (q, k)],
                       G_{i,t} = X_i^T diag(M_i[t, :]) X_i
    linear Mixer:      F_i(Z)[t, k] = sum_{t',q} X_i[t', q] Z[(t, t'), (q, k)]

returned as dense matrices ``A`` with ``A @ Z.ravel() = F(Z).ravel()`` (row-major on both sides), of type
:class:`~cvxnn_core.attention._checks.BlockMap` (they remember their block shape). A map has ``n s c`` rows (``n c``
pooled: the mean over tokens, built directly) and ``d^3 c`` columns (``s^2 d c`` for the Mixer); its size is checked
against ``max_entries`` before anything is allocated.
"""

from __future__ import annotations

import numpy as np

from cvxnn_core._shapes import MAX_ENTRIES, check_array, check_size
from cvxnn_core._validation import check_choice, check_positive_int
from cvxnn_core.attention._checks import BlockMap, check_heads, check_tokens

KINDS = ("linear", "gated", "relu")


def attention_mask(Xs: np.ndarray, H: np.ndarray) -> np.ndarray:
    """``M_i = 1[X_i H X_i^T >= 0]`` for every sample, ``(n, s, s)`` float 0/1; ``H`` is ``(d, d)``."""
    Xs = check_tokens(Xs)
    d = Xs.shape[2]
    H = check_array(H, "H", (d, d), labels=("d", "d"))
    return (np.einsum("nta,ab,nub->ntu", Xs, H, Xs) >= 0).astype(np.float64)


def _check_map_size(n: int, s: int, c: int, cols: int, pooled: bool, max_entries: object) -> None:
    limit = check_positive_int(max_entries, "max_entries")
    rows = n * c * (1 if pooled else s)
    check_size(rows * cols, limit, what=f"a dense ({rows:,} x {cols:,}) float64 map ({8 * rows * cols / 2**30:.1f} "
               "GiB), entries", keyword="max_entries",
               alternative="use fewer samples, tokens or features (the columns grow as d^3), or pooled=True")


def linear_attention_map(Xs: np.ndarray, c: int, *, pooled: bool = False,
                         max_entries: int = MAX_ENTRIES) -> np.ndarray:
    """The map of linear self-attention, ``(n s c, d^2 d c)`` (``(n c, ...)`` when ``pooled``)."""
    Xs = check_tokens(Xs)
    c = check_positive_int(c, "c")
    n, s, d = Xs.shape
    _check_map_size(n, s, c, d**3 * c, pooled, max_entries)
    G = np.einsum("ntp,ntq->npq", Xs, Xs)
    if pooled:
        F = np.einsum("na,npq,kl->nkapql", Xs.mean(axis=1), G, np.eye(c))
    else:
        F = np.einsum("nta,npq,kl->ntkapql", Xs, G, np.eye(c))
    return BlockMap(F.reshape(-1, d * d * d * c), (d * d, d * c))


def gated_attention_map(Xs: np.ndarray, H: np.ndarray, c: int, *, pooled: bool = False,
                        max_entries: int = MAX_ENTRIES) -> np.ndarray:
    """The map of gated self-attention with gate ``H`` ``(d, d)``, same shape as :func:`linear_attention_map`."""
    Xs = check_tokens(Xs)
    c = check_positive_int(c, "c")
    n, s, d = Xs.shape
    M = attention_mask(Xs, H)
    _check_map_size(n, s, c, d**3 * c, pooled, max_entries)
    Gt = np.einsum("ntu,nub,nuq->ntbq", M, Xs, Xs)
    if pooled:
        F = np.einsum("nabq,kl->nkabql", np.einsum("nta,ntbq->nabq", Xs, Gt) / s, np.eye(c))
    else:
        F = np.einsum("nta,ntbq,kl->ntkabql", Xs, Gt, np.eye(c))
    return BlockMap(F.reshape(-1, d * d * d * c), (d * d, d * c))


def mixer_map(Xs: np.ndarray, c: int, *, pooled: bool = False, max_entries: int = MAX_ENTRIES) -> np.ndarray:
    """The map of the linear MLP-Mixer block, ``(n s c, s^2 d c)`` (``(n c, ...)`` when ``pooled``)."""
    Xs = check_tokens(Xs)
    c = check_positive_int(c, "c")
    n, s, d = Xs.shape
    _check_map_size(n, s, c, s * s * d * c, pooled, max_entries)
    if pooled:
        F = np.einsum("u,nvq,kl->nkuvql", np.full(s, 1.0 / s), Xs, np.eye(c))
    else:
        F = np.einsum("tu,nvq,kl->ntkuvql", np.eye(s), Xs, np.eye(c))
    return BlockMap(F.reshape(-1, s * s * d * c), (s * s, d * c))


def _check_kind(kind: str, gates: object, m: int, d: int) -> np.ndarray | None:
    kind = check_choice(kind, "kind", KINDS)
    if kind != "gated":
        if gates is not None:
            raise ValueError(f"gates are used with kind='gated' only, got kind={kind!r}; drop gates or pass "
                             "kind='gated'")
        return None
    if gates is None:
        raise ValueError("kind='gated' needs gates (m, d, d), one per head")
    return check_array(gates, "gates", (m, d, d), labels=("m", "d", "d"))


def attention_forward(Xs: np.ndarray, W1: np.ndarray, W2: np.ndarray, *, kind: str = "linear",
                      gates: np.ndarray | None = None, pooled: bool = False) -> np.ndarray:
    """Outputs of ``m`` parallel heads (``W1`` ``(m, d, d)``, ``W2`` ``(m, d, c)``): ``kind="linear"``, ``"relu"``, or
    ``"gated"`` with ``gates`` ``(m, d, d)`` (head ``j`` masked by gate ``j``). ``(n, s, c)``, or ``(n, c)`` pooled."""
    Xs = check_tokens(Xs)
    W1, W2 = check_heads(Xs.shape[2], W1, W2)
    gates = _check_kind(kind, gates, W1.shape[0], Xs.shape[2])
    S = np.einsum("nta,mab,nub->mntu", Xs, W1, Xs)
    if kind == "relu":
        S = np.maximum(S, 0.0)
    elif gates is not None:
        S = S * (np.einsum("nta,mab,nub->mntu", Xs, gates, Xs) >= 0)
    out = np.einsum("mntu,nuq,mqk->ntk", S, Xs, W2)
    return out.mean(axis=1) if pooled else out


def mixer_forward(Xs: np.ndarray, T: np.ndarray, W: np.ndarray, *, pooled: bool = False) -> np.ndarray:
    """Outputs of ``m`` linear Mixer heads (``T`` ``(m, s, s)``, ``W`` ``(m, d, c)``)."""
    Xs = check_tokens(Xs)
    T, W = check_heads(Xs.shape[2], T, W, ("T", "W"), ("m", "s", "s"), size=Xs.shape[1])
    out = np.einsum("mtu,nuq,mqk->ntk", T, Xs, W)
    return out.mean(axis=1) if pooled else out


def _torch_heads(d: int, A, B, names: tuple[str, str], first: tuple[str, ...], size: int, m: int | None) -> None:
    """Shape checks of torch head weights inside a forward function (the values are the optimiser's)."""
    if A.ndim != 3 or tuple(A.shape[1:]) != (size, size) or (m is not None and A.shape[0] != m):
        want = f"({m if m is not None else first[0]}, {size}, {size})"
        raise ValueError(f"{names[0]} must have shape ({', '.join(first)}) = {want}, got {tuple(A.shape)}")
    if B.ndim != 3 or B.shape[0] != A.shape[0] or B.shape[1] != d:
        raise ValueError(f"{names[1]} must have shape (m, d, c) = ({A.shape[0]}, {d}, c), got {tuple(B.shape)}")


def attention_torch_forward(Xs: np.ndarray, *, kind: str = "linear", gates: np.ndarray | None = None,
                            pooled: bool = False):
    """A torch function ``f(W1, W2)`` of ``m`` heads (``W1`` ``(m, d, d)``, ``W2`` ``(m, d, c)``) returning the
    flattened outputs, as :func:`attention_forward` (``kind="gated"``: head ``j`` masked by ``gates[j]``, fixed)."""
    import torch

    Xs = check_tokens(Xs)
    d = Xs.shape[2]
    if kind == "gated" and gates is not None:
        gates = check_array(gates, "gates", (None, d, d), labels=("m", "d", "d"))
    gates = _check_kind(kind, gates, 0 if gates is None else gates.shape[0], d)
    Xt = torch.as_tensor(Xs)
    masks = None
    if gates is not None:
        masks = torch.as_tensor(np.einsum("nta,mab,nub->mntu", Xs, gates, Xs) >= 0, dtype=torch.float64)
    heads = None if gates is None else gates.shape[0]

    def forward(W1, W2):
        _torch_heads(d, W1, W2, ("W1", "W2"), ("m", "d", "d"), d, heads)
        S = torch.einsum("nta,mab,nub->mntu", Xt, W1, Xt)
        if kind == "relu":
            S = torch.relu(S)
        elif masks is not None:
            S = S * masks
        out = torch.einsum("mntu,nuq,mqk->ntk", S, Xt, W2)
        return (out.mean(dim=1) if pooled else out).reshape(-1)

    return forward


def mixer_torch_forward(Xs: np.ndarray, *, pooled: bool = False):
    """A torch function ``f(T, W)`` of ``m`` linear Mixer heads returning the flattened outputs."""
    import torch

    Xs = check_tokens(Xs)
    Xt = torch.as_tensor(Xs)
    s, d = Xs.shape[1:]

    def forward(T, W):
        _torch_heads(d, T, W, ("T", "W"), ("m", "s", "s"), s, None)
        out = torch.einsum("mtu,nuq,mqk->ntk", T, Xt, W)
        return (out.mean(dim=1) if pooled else out).reshape(-1)

    return forward


def pair_balanced_accuracy(masks: np.ndarray, labels: np.ndarray) -> float:
    """Balanced accuracy of attention masks ``(n, s, s)`` as detectors of same-cluster token pairs (``t != t'``, pooled
    over samples) given token cluster labels ``(n, s)``: ``0.5 (P[M = 1 | same] + P[M = 0 | different])``; 0.5 is
    chance, 1 the planted clustering, below 0.5 attention across clusters."""
    masks = np.asarray(masks, dtype=np.float64)
    labels = np.asarray(labels)
    if masks.ndim != 3 or labels.shape != masks.shape[:2] or masks.shape[1] != masks.shape[2]:
        raise ValueError(f"masks must be (n, s, s) and labels (n, s), got {masks.shape} and {labels.shape}")
    if not np.all(np.isin(masks, (0.0, 1.0))):
        bad = np.unique(masks[~np.isin(masks, (0.0, 1.0))])[:3]
        raise ValueError(f"masks must hold 0/1 (or booleans): 1 where token t attends to t'; got values such as "
                         f"{bad.tolist()}")
    same = (labels[:, :, None] == labels[:, None, :]).astype(np.float64)
    off = 1.0 - np.eye(masks.shape[1])[None]
    if (same * off).sum() == 0 or ((1 - same) * off).sum() == 0:
        raise ValueError("labels need both same-cluster and different-cluster token pairs")
    hit = (masks * same * off).sum() / (same * off).sum()
    reject = ((1 - masks) * (1 - same) * off).sum() / ((1 - same) * off).sum()
    return float(0.5 * (hit + reject))
