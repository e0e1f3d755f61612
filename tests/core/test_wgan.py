"""The WGAN closed form and programs (cvxnn_core.wgan) against the SDP, Weyl's inequality and direct checks."""

from __future__ import annotations

import numpy as np
import pytest

from cvxnn_core import wgan
from cvxnn_core._cvx import SolverError


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5)) * np.array([1.5, 1.0, 0.6, 0.3, 0.1])
    return X - X.mean(axis=0)


def test_closed_form_matches_the_sdp(data):
    cf = wgan.quadratic_wgan_closed_form(data, 0.2)
    value, M = wgan.quadratic_wgan_program(data, 0.2)
    assert value == pytest.approx(cf.value, rel=1e-6)
    assert np.allclose(M, cf.M, atol=1e-5)
    assert wgan.discriminator_advantage(data, cf.M) == pytest.approx(0.2, rel=1e-10)
    assert np.allclose(np.sort(np.linalg.eigvalsh(cf.M))[::-1], cf.generator_eigenvalues, atol=1e-12)


def test_no_feasible_generator_is_smaller(data):
    """Weyl: every M >= 0 with ||Sigma - M||_2 <= beta has trace at least sum (lambda - beta)_+."""
    beta = 0.2
    cf = wgan.quadratic_wgan_closed_form(data, beta)
    Sigma = wgan.second_moment(data)
    rng = np.random.default_rng(1)
    for _ in range(200):
        E = rng.standard_normal((5, 5))
        E = (E + E.T) / 2
        E *= beta * rng.uniform(0, 1) / np.linalg.norm(E, 2)
        lam, V = np.linalg.eigh(Sigma - E)
        M = (V * np.maximum(lam, 0)) @ V.T
        if wgan.discriminator_advantage(data, M) <= beta:
            assert 0.5 * np.trace(M) >= cf.value - 1e-12


def test_samples_follow_the_generator(data):
    cf = wgan.quadratic_wgan_closed_form(data, 0.2)
    G = cf.sample(40000, seed=0)
    assert np.allclose(G.T @ G / len(G), cf.M, atol=0.05)
    with pytest.raises(ValueError, match="latent_dim"):
        wgan.quadratic_wgan_closed_form(data, 0.01, latent_dim=2)


def test_relu_program_and_gda(data):
    rng = np.random.default_rng(0)
    U = rng.standard_normal((10, 5))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    cf = wgan.quadratic_wgan_closed_form(data, 0.05)
    Z = rng.standard_normal((60, cf.W.shape[0]))
    P = Z @ cf.W @ U.T >= 0
    # a beta at which the starting generator itself is feasible: the program is then feasible and no worse than it
    beta = 1.01 * np.max(np.abs(wgan.relu_direction_means(data, U) - np.maximum(Z @ cf.W @ U.T, 0).mean(axis=0)))
    sol = wgan.relu_wgan_program(data, Z, U, beta, P)
    assert sol.advantage <= beta * (1 + 1e-6) and sol.value <= 0.5 * np.sum(cf.W**2) * (1 + 1e-7)
    assert np.all((2 * P - 1) * (Z @ sol.W @ U.T) >= -1e-8)
    with pytest.raises(SolverError, match="infeasible"):
        wgan.relu_wgan_program(data, Z, U, 1e-6, P)
    h = wgan.gda_relu(data, Z, U, 0.02, cf.W, steps=200)
    assert h["W"].shape == cf.W.shape and np.all(np.isfinite(h["generator_value"]))
    q = wgan.gda_quadratic(data, 0.05, 3, steps=50, lr_discriminator=100.0, lr_generator=10.0)
    assert all(q[key].shape == (50,) for key in ("objective", "generator_value", "advantage"))  # NaN, not raise
    assert q["M_average"].shape == (5, 5)
    with pytest.raises(ValueError, match="patterns"):
        wgan.relu_wgan_program(data, Z, U, 0.02, P[:, :3])


def test_gda_average_is_the_mean_second_moment(data):
    """M_average is the mean of W^T W over the second half: with a tiny generator step from W0, W barely moves."""
    cf = wgan.quadratic_wgan_closed_form(data, 0.2)
    h = wgan.gda_quadratic(data, 0.2, cf.W.shape[0], steps=10, lr_generator=1e-12, W0=cf.W)
    assert np.allclose(h["M_average"], cf.M, atol=1e-9)
