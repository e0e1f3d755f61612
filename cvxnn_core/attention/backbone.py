"""A frozen token backbone for the 8x8 digits (our stand-in for a pre-trained vision transformer) and a ridge head.

Each image is cut into non-overlapping ``patch x patch`` patches (the tokens, row-major); every patch is projected
on the ``d`` leading principal directions of the training patches (fitted once, then frozen). The convex attention
heads, the Mixer head and the baselines are trained on these tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cvxnn_core._shapes import check_array
from cvxnn_core._validation import check_beta, check_positive_int, check_X


@dataclass(frozen=True)
class PatchPCA:
    """Frozen patch embedding: ``side`` (image side), ``patch`` (patch side), ``mean`` ``(patch^2,)`` and
    ``components`` ``(d, patch^2)`` of the training patches."""

    side: int
    patch: int
    mean: np.ndarray
    components: np.ndarray

    @classmethod
    def fit(cls, images: np.ndarray, *, patch: int = 4, d: int = 4) -> PatchPCA:
        """Fit on flattened square images ``(n, side^2)``; ``patch`` must divide ``side``."""
        images = check_X(images, "images")
        side = int(round(np.sqrt(images.shape[1])))
        patch, d = check_positive_int(patch, "patch"), check_positive_int(d, "d")
        if side * side != images.shape[1] or side % patch:
            raise ValueError(f"images must be flattened squares whose side is a multiple of patch = {patch}, got "
                             f"{images.shape[1]} pixels")
        P = _patches(images, side, patch).reshape(-1, patch * patch)
        if P.shape[0] < 2:
            raise ValueError("PatchPCA needs at least two patches (one image of one patch has no principal direction); "
                             "pass more images or a smaller patch")
        mean = P.mean(axis=0)
        _, _, Vt = np.linalg.svd(P - mean, full_matrices=False)
        if d > Vt.shape[0]:
            raise ValueError(f"d = {d} exceeds the {Vt.shape[0]} principal directions available (patch^2 = "
                             f"{patch * patch}, {P.shape[0]} patches); use d <= {Vt.shape[0]}")
        return cls(side, patch, mean, Vt[:d])

    def transform(self, images: np.ndarray) -> np.ndarray:
        """Tokens ``(n, s, d)``: every patch centred and projected on the frozen components."""
        images = check_X(images, "images")
        if images.shape[1] != self.side * self.side:
            raise ValueError(f"images must have {self.side * self.side} pixels, got {images.shape[1]}")
        P = _patches(images, self.side, self.patch)
        return (P - self.mean) @ self.components.T


def _patches(images: np.ndarray, side: int, patch: int) -> np.ndarray:
    k = side // patch
    img = images.reshape(-1, k, patch, k, patch)
    return img.transpose(0, 1, 3, 2, 4).reshape(images.shape[0], k * k, patch * patch)


def ridge_head(features: np.ndarray, Y: np.ndarray, beta: float) -> np.ndarray:
    """``argmin_W 0.5 ||F W - Y||^2 + (beta/2) ||W||^2 = (F^T F + beta I)^{-1} F^T Y`` (append a ones column to
    ``features`` for a bias)."""
    F = check_X(features, "features")
    Y = check_array(np.asarray(Y)[:, None] if np.ndim(Y) == 1 else Y, "Y", (F.shape[0], None), labels=("n", "c"),
                    fix="one row per sample; transpose a (c, n) array with Y.T")
    beta = check_beta(beta)
    if beta == 0 and (rank := np.linalg.matrix_rank(F)) < F.shape[1]:
        raise ValueError(f"features has rank {rank} < {F.shape[1]} columns, so beta = 0 has no unique solution; "
                         "pass beta > 0")
    return np.linalg.solve(F.T @ F + beta * np.eye(F.shape[1]), F.T @ Y)
