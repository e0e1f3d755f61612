"""Attention and Mixer heads as (block) nuclear-norm programs, checked against direct evaluation of the heads."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cvxnn_core import attention as at


@pytest.fixture(scope="module")
def tokens():
    rng = np.random.default_rng(0)
    Xs = rng.standard_normal((10, 4, 3))
    Y = at.attention_forward(Xs, rng.standard_normal((2, 3, 3)), rng.standard_normal((2, 3, 2)))
    return Xs, Y + 0.1 * rng.standard_normal(Y.shape)


@pytest.mark.parametrize("pooled", [False, True])
def test_maps_match_the_heads(tokens, pooled):
    Xs, _ = tokens
    rng = np.random.default_rng(1)
    W1, W2, T, H = (rng.standard_normal(s) for s in ((3, 3, 3), (3, 3, 2), (3, 4, 4), (3, 3)))
    Z = sum(np.outer(a.ravel(), b.ravel()) for a, b in zip(W1, W2, strict=True))
    A = at.linear_attention_map(Xs, 2, pooled=pooled)
    assert np.allclose(A @ Z.ravel(), at.attention_forward(Xs, W1, W2, pooled=pooled).ravel(), atol=1e-11)
    G = at.gated_attention_map(Xs, H, 2, pooled=pooled)
    gated = at.attention_forward(Xs, W1, W2, kind="gated", gates=np.repeat(H[None], 3, 0), pooled=pooled)
    assert np.allclose(G @ Z.ravel(), gated.ravel(), atol=1e-11)
    Zm = sum(np.outer(t.ravel(), w.ravel()) for t, w in zip(T, W2, strict=True))
    assert np.allclose(at.mixer_map(Xs, 2, pooled=pooled) @ Zm.ravel(),
                       at.mixer_forward(Xs, T, W2, pooled=pooled).ravel(), atol=1e-11)
    f = at.attention_torch_forward(Xs, kind="relu", pooled=pooled)
    assert np.allclose(f(torch.as_tensor(W1), torch.as_tensor(W2)).numpy(),
                       at.attention_forward(Xs, W1, W2, kind="relu", pooled=pooled).ravel())


def test_nuclear_program_is_exact_and_certified(tokens):
    Xs, Y = tokens
    A, shape = at.linear_attention_map(Xs, 2), (9, 6)
    beta = 0.1 * at.beta_max([A], Y, [shape])
    sol = at.solve_block_nuclear([A], Y, beta, [shape])
    a, b = at.factor_heads(sol.Z[0])
    W1, W2 = a.reshape(-1, 3, 3), b.reshape(-1, 3, 2)
    J = 0.5 * np.sum((at.attention_forward(Xs, W1, W2) - Y) ** 2) + 0.5 * beta * (np.sum(W1**2) + np.sum(W2**2))
    assert J == pytest.approx(sol.objective, rel=1e-7)
    ratio, gap = at.dual_certificate([A], Y, sol)
    assert ratio == pytest.approx(1.0, abs=1e-6) and abs(gap) < 1e-6
    for value, _, _ in at.train_bilinear_heads(at.attention_torch_forward(Xs), ((3, 3), (3, 2)), Y, beta, 6,
                                               seeds=[0], steps=1500):
        assert value >= sol.objective * (1 - 1e-7)
    rng = np.random.default_rng(2)
    for _ in range(20):  # the lemma: any heads realise at most the program's value from above
        W1r, W2r = rng.standard_normal((4, 3, 3)), rng.standard_normal((4, 3, 2))
        fit = 0.5 * np.sum((at.attention_forward(Xs, W1r, W2r) - Y) ** 2)
        assert fit + 0.5 * beta * (np.sum(W1r**2) + np.sum(W2r**2)) >= sol.objective


def test_rank_falls_and_vanishes_past_beta_max(tokens):
    Xs, Y = tokens
    A, shape = at.mixer_map(Xs, 2), (16, 6)
    bmax = at.beta_max([A], Y, [shape])
    ranks = [at.solve_block_nuclear([A], Y, f * bmax, [shape]).ranks[0] for f in (0.01, 0.1, 0.5, 1.05)]
    assert all(r1 >= r2 for r1, r2 in zip(ranks, ranks[1:], strict=False)) and ranks[-1] == 0 and ranks[0] > 0


def test_balanced_accuracy():
    labels = np.array([[0, 0, 1, 1]])
    same = (labels[:, :, None] == labels[:, None, :]).astype(float)
    assert at.pair_balanced_accuracy(same, labels) == 1.0
    assert at.pair_balanced_accuracy(1 - same, labels) == 0.0
    assert at.pair_balanced_accuracy(np.ones((1, 4, 4)), labels) == 0.5
    with pytest.raises(ValueError, match="must be"):
        at.pair_balanced_accuracy(np.ones((1, 3, 3)), labels)


def test_backbone_and_ridge_head():
    rng = np.random.default_rng(0)
    images = rng.random((30, 64))
    bb = at.PatchPCA.fit(images, patch=4, d=3)
    assert bb.transform(images).shape == (30, 4, 3)
    assert np.allclose(bb.components @ bb.components.T, np.eye(3))
    F, Y = rng.standard_normal((30, 5)), rng.standard_normal((30, 2))
    W = at.ridge_head(F, Y, 0.5)
    assert np.allclose(F.T @ (F @ W - Y) + 0.5 * W, 0.0, atol=1e-10)
    with pytest.raises(ValueError, match="multiple of patch"):
        at.PatchPCA.fit(rng.random((5, 60)), patch=4)


def test_bad_input(tokens):
    Xs, Y = tokens
    with pytest.raises(ValueError, match=r"\(n, s, d\)"):
        at.linear_attention_map(Xs[0], 2)
    with pytest.raises(ValueError, match="expected"):
        at.solve_block_nuclear([at.linear_attention_map(Xs, 2)], Y, 1.0, [(9, 5)])
    with pytest.raises(ValueError, match="gates"):
        at.attention_forward(Xs, np.ones((1, 3, 3)), np.ones((1, 3, 2)), kind="gated")
