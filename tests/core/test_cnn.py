"""Tests of :mod:`cvxnn_core.cnn`: patches, the convex two-layer CNN program, the circular linear CNN.

All data are seeded; the convex programs are solved with Clarabel at the tight tolerances of
:mod:`cvxnn_core.programs`.
"""

from __future__ import annotations

import numpy as np
import pytest

from cvxnn_core import cnn
from cvxnn_core.datasets import planted_filter_images, spectral_teacher_signals
from cvxnn_core.patterns import enumerate_patterns, sample_patterns
from cvxnn_core.programs import SolverError, solve_relu
from cvxnn_core.recovery import nonconvex_objective, relu_network

REL = 1e-6


def _naive_patches(images, ph, pw, sh, sw, pad):
    imgs = np.pad(images, ((0, 0), (pad, pad), (pad, pad)))
    n, H, W = imgs.shape
    out = []
    for j in range(n):
        rows = []
        for r in range(0, H - ph + 1, sh):
            for c in range(0, W - pw + 1, sw):
                rows.append(imgs[j, r : r + ph, c : c + pw].reshape(-1))
        out.append(rows)
    return np.array(out)


@pytest.fixture(scope="module")
def tiny():
    """1-D signals with filters of size 2: the complete patch arrangement is small (48 patterns)."""
    rng = np.random.default_rng(3)
    signals = rng.standard_normal((6, 5))
    patches = cnn.extract_patches(signals, 2)
    y = rng.standard_normal(6)
    D = cnn.enumerate_patch_patterns(patches)
    return patches, y, 0.05, D, cnn.solve_cnn_relu(patches, y, 0.05, D)


@pytest.fixture(scope="module")
def images():
    """Planted-filter images, 3x3 patches with stride 2 and a bias entry (K = 4, h = 10), 30 sampled patterns."""
    imgs, y, _ = planted_filter_images(20, size=5, patch_size=3, stride=2, seed=1)
    patches = cnn.add_patch_intercept(cnn.extract_patches(imgs, 3, stride=2))
    return patches, y, 0.01, cnn.sample_patch_patterns(patches, 30, seed=0)


# ------------------------------------------------------------------------------------------ patches


@pytest.mark.parametrize(("patch", "stride", "pad"), [(3, 1, 0), ((2, 3), (2, 1), 1), (4, 2, 2), ((1, 1), 3, 0)])
def test_patches_match_naive_loop(patch, stride, pad):
    imgs = np.random.default_rng(0).standard_normal((3, 6, 7))
    ph, pw = (patch, patch) if isinstance(patch, int) else patch
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    expected = _naive_patches(imgs, ph, pw, sh, sw, pad)
    np.testing.assert_array_equal(cnn.extract_patches(imgs, patch, stride=stride, padding=pad), expected)


def test_signal_patches_match_naive_loop():
    sig = np.random.default_rng(1).standard_normal((4, 9))
    got = cnn.extract_patches(sig, 3, stride=2, padding=1)
    padded = np.pad(sig, ((0, 0), (1, 1)))
    expected = np.array([[padded[j, s : s + 3] for s in range(0, 11 - 3 + 1, 2)] for j in range(4)])
    np.testing.assert_array_equal(got, expected)


def test_stacked_patches_and_intercept_layout():
    P = np.random.default_rng(2).standard_normal((3, 4, 5))
    Z = cnn.stack_patches(P)
    np.testing.assert_array_equal(Z[2 * 4 + 1], P[2, 1])
    Pi = cnn.add_patch_intercept(P)
    assert Pi.shape == (3, 4, 6)
    np.testing.assert_array_equal(Pi[..., -1], 1.0)


def test_sampled_patch_patterns_are_patterns_of_the_stacked_matrix(images):
    patches = images[0]
    np.testing.assert_array_equal(
        cnn.sample_patch_patterns(patches, 25, seed=4), sample_patterns(cnn.stack_patches(patches), 25, seed=4)
    )


def test_complete_arrangement_contains_the_pattern_of_every_filter(tiny):
    patches, _, _, D, _ = tiny
    Z = cnn.stack_patches(patches)
    cols = {D[:, i].tobytes() for i in range(D.shape[1])}
    U = np.random.default_rng(5).standard_normal((200, 2))
    assert all((Z @ u >= 0).tobytes() in cols for u in U if np.any(Z @ u >= 0))


# ------------------------------------------------------------------------------ two-layer ReLU CNN


@pytest.mark.parametrize("pooling", ["average", "sum"])
def test_recovered_cnn_attains_convex_objective(images, pooling):
    patches, y, beta, D = images
    res = cnn.solve_cnn_relu(patches, y, beta, D, pooling=pooling)
    net = cnn.cnn_network(res)
    assert res.status == "optimal" and net.width == res.n_active_blocks
    np.testing.assert_allclose(net.predict(patches), res.predict(patches), rtol=1e-10, atol=1e-12)
    assert abs(cnn.cnn_objective(patches, y, net, beta) - res.objective) <= REL * res.objective


def test_one_patch_cnn_program_is_the_two_layer_program(images):
    """With K = 1 (the patch is the whole input) the CNN program is the fully connected one."""
    patches, y, beta, _ = images
    X = cnn.stack_patches(patches[:, :1])
    D = sample_patterns(X, 20, seed=0)
    fc = solve_relu(X, y, beta, D)
    conv = cnn.solve_cnn_relu(patches[:, :1], y, beta, D)
    assert abs(fc.objective - conv.objective) <= REL * fc.objective
    assert abs(nonconvex_objective(X, y, relu_network(fc), beta) - conv.objective) <= REL * fc.objective


def test_complete_arrangement_optimum_lower_bounds_every_cnn(tiny):
    patches, y, beta, _, res = tiny
    rng = np.random.default_rng(6)
    for m in (1, 3, 10):
        for _ in range(20):
            net = cnn.TwoLayerCNN(rng.standard_normal((m, 2)), rng.standard_normal(m))
            assert cnn.cnn_objective(patches, y, net, beta) >= res.objective * (1 - REL)
    assert abs(cnn.cnn_objective(patches, y, cnn.cnn_network(res), beta) - res.objective) <= REL * res.objective


def test_sgd_never_beats_complete_arrangement_optimum(tiny):
    patches, y, beta, _, res = tiny
    runs = cnn.train_cnn_sweep(
        patches, y, beta, widths=[2, 16], seeds=[0, 1], optimizers={"adam": 0.02, "sgd": 0.02}, epochs=400
    )
    finals = [r.objective for r in runs]
    assert min(finals) >= res.objective * (1 - REL)
    # wide networks get close (the bound is not vacuous)
    assert min(finals) <= 1.5 * res.objective


def test_train_cnn_history_is_the_objective_of_the_returned_net(images):
    patches, y, beta, _ = images
    full = cnn.train_cnn(patches, y, 4, beta, epochs=30, seed=1)
    assert full.history.shape == (30,)
    assert abs(full.objective - cnn.cnn_objective(patches, y, full.net, beta)) <= 1e-10 * full.objective
    mini = cnn.train_cnn(patches, y, 4, beta, epochs=5, seed=1, batch_size=7, optimizer="sgd", lr=1e-3)
    assert abs(mini.objective - cnn.cnn_objective(patches, y, mini.net, beta)) <= 1e-10 * mini.objective
    again = cnn.train_cnn(patches, y, 4, beta, epochs=30, seed=1)
    np.testing.assert_array_equal(full.history, again.history)


# ------------------------------------------------------------------------------ circular linear CNN


@pytest.fixture(scope="module")
def signals():
    rng = np.random.default_rng(7)
    d = 8
    X = rng.standard_normal((15, d))
    g_true = np.real(np.fft.ifft(np.where(np.arange(d) % 3 == 1, 2.0, 0.0)))
    return X, X @ g_true + 0.1 * rng.standard_normal(15), 0.5


def test_circular_convolution_is_the_circulant_matrix():
    rng = np.random.default_rng(8)
    u, X = rng.standard_normal(6), rng.standard_normal((3, 6))
    C = np.array([[u[(a - b) % 6] for b in range(6)] for a in range(6)])
    np.testing.assert_allclose(cnn.circular_convolve(u, X), X @ C.T, atol=1e-12)


def test_circular_cnn_is_the_linear_model_and_weight_decay_bounds_the_l1_norm(signals):
    X, _, _ = signals
    rng = np.random.default_rng(9)
    d = X.shape[1]
    for m in (1, 2, 5):
        U, W2 = rng.standard_normal((m, d)), rng.standard_normal((m, d))
        g = cnn.circular_linear_model(U, W2)
        np.testing.assert_allclose(cnn.circular_cnn_predictions(X, U, W2), X @ g, atol=1e-10)
        M = U.T @ W2  # sum_j u_j w_j^T
        np.testing.assert_allclose(np.einsum("jca,ca->j", cnn.circular_shift_operator(X), M), X @ g, atol=1e-10)
        assert 0.5 * (np.sum(U**2) + np.sum(W2**2)) >= np.sum(np.abs(np.fft.fft(g))) / d * (1 - 1e-12)


def test_dft_l1_solution_equals_nuclear_norm_program(signals):
    X, y, beta = signals
    dft = cnn.solve_circular_dft(X, y, beta)
    nuc = cnn.solve_circular_nuclear(X, y, beta)
    assert abs(dft.objective - nuc.objective) <= REL * nuc.objective
    U, W2 = cnn.circular_cnn_from_dft(dft.g)
    np.testing.assert_allclose(cnn.circular_linear_model(U, W2), dft.g, atol=1e-12)
    assert abs(cnn.circular_cnn_objective(X, y, U, W2, beta) - dft.objective) <= 1e-10 * dft.objective


def test_closed_form_on_shift_closed_data_equals_solvers(signals):
    X, y, beta = signals
    Xs, _ = cnn.circular_shift_augment(X[:3], y[:3])
    g_sparse = np.real(np.fft.ifft(np.where(np.isin(np.arange(8), (1, 7)), 4.0, 0.0)))  # one frequency pair
    ys = Xs @ g_sparse + 0.1 * np.random.default_rng(10).standard_normal(Xs.shape[0])
    closed = cnn.circular_closed_form(Xs, ys, beta)
    dft = cnn.solve_circular_dft(Xs, ys, beta)
    nuc = cnn.solve_circular_nuclear(Xs, ys, beta)
    assert abs(closed.objective - dft.objective) <= REL * dft.objective
    assert abs(closed.objective - nuc.objective) <= REL * nuc.objective
    assert np.sum(np.abs(np.fft.fft(closed.g)) > 1e-9) < X.shape[1]  # soft-thresholding zeroes frequencies


# ------------------------------------------------------------------------------------ bad input


def test_bad_inputs_raise_clear_errors(images, signals):
    patches, y, beta, D = images
    with pytest.raises(ValueError, match="images"):
        cnn.extract_patches(np.zeros((2, 3, 4, 5)), 2)
    with pytest.raises(ValueError, match="patch_size"):
        cnn.extract_patches(np.zeros((2, 4, 4)), 5)
    with pytest.raises(ValueError, match="padding"):
        cnn.extract_patches(np.zeros((2, 4, 4)), 2, padding=-1)
    with pytest.raises(ValueError, match="stride"):
        cnn.extract_patches(np.zeros((2, 4, 4)), 2, stride=0)
    with pytest.raises(ValueError, match="NaN"):
        cnn.extract_patches(np.full((2, 4, 4), np.nan), 2)
    with pytest.raises(ValueError, match="patches"):
        cnn.solve_cnn_relu(patches[0], y, beta, D)
    with pytest.raises(ValueError, match="patterns"):
        cnn.solve_cnn_relu(patches, y, beta, D[:-1])
    with pytest.raises(ValueError, match="pooling"):
        cnn.solve_cnn_relu(patches, y, beta, D, pooling="max")
    with pytest.raises(ValueError, match="beta"):
        cnn.solve_cnn_relu(patches, y, -1.0, D)
    with pytest.raises(SolverError, match="not installed"):
        cnn.solve_cnn_relu(patches, y, beta, D, solver="NO_SUCH_SOLVER")
    with pytest.raises(ValueError, match="filters"):
        cnn.TwoLayerCNN(np.zeros((3, 10)), np.zeros(2))
    with pytest.raises(ValueError, match="patches have h"):
        cnn.TwoLayerCNN(np.zeros((3, 4)), np.zeros(3)).predict(patches)
    with pytest.raises(ValueError, match="width"):
        cnn.train_cnn(patches, y, 0, beta)
    X, ys, b = signals
    with pytest.raises(ValueError, match="circulant"):
        cnn.circular_closed_form(X, ys, b)
    with pytest.raises(ValueError, match="U and W2"):
        cnn.circular_cnn_predictions(X, np.zeros((2, 3)), np.zeros((2, 3)))


def test_sweep_trains_exactly_the_separate_runs(images):
    patches, y, beta, _ = images
    sweep = cnn.train_cnn_sweep(patches, y, beta, widths=[2, 5], seeds=[0, 3], optimizers={"adam": 0.01}, epochs=25)
    assert [(r.net.width, r.seed) for r in sweep] == [(2, 0), (2, 3), (5, 0), (5, 3)]
    for r in sweep:
        solo = cnn.train_cnn(patches, y, r.net.width, beta, lr=0.01, epochs=25, seed=r.seed)
        np.testing.assert_allclose(r.history, solo.history, rtol=1e-10)
        np.testing.assert_allclose(r.net.filters, solo.net.filters, rtol=1e-8, atol=1e-12)
    mini = cnn.train_cnn_sweep(
        patches, y, beta, widths=[3], seeds=[1, 2], optimizers={"sgd": 1e-3}, epochs=4, batch_size=6
    )
    for r in mini:
        solo = cnn.train_cnn(patches, y, 3, beta, optimizer="sgd", lr=1e-3, epochs=4, seed=r.seed, batch_size=6)
        np.testing.assert_allclose(r.history, solo.history, rtol=1e-10)


def test_strongest_filters_and_complete_program_cost(tiny):
    net = cnn.TwoLayerCNN(np.array([[3.0, 4.0], [1.0, 0.0], [0.0, -2.0]]), np.array([1.0, -5.0, 0.5]))
    unit, strength, sign = cnn.strongest_filters(net, 2)
    np.testing.assert_allclose(strength, [5.0, 5.0])
    np.testing.assert_allclose(unit, [[0.6, 0.8], [1.0, 0.0]])
    np.testing.assert_array_equal(sign, [1.0, -1.0])
    patches, y, beta, D, res = tiny
    signals = np.random.default_rng(3).standard_normal((6, 5))
    cost = cnn.complete_program_cost(signals, y, beta, 2)
    assert (cost["n"], cost["K"], cost["h"], cost["rows"]) == (6, 4, 2, 24)
    assert cost["patterns"] == D.shape[1] <= cost["bound"]
    assert abs(cost["objective"] - res.objective) <= REL * res.objective


def test_planted_and_spectral_generators():
    imgs, y, F = planted_filter_images(7, size=6, patch_size=3, stride=1, noise=0.0, seed=2)
    teacher = cnn.TwoLayerCNN(F.reshape(2, -1), np.array([1.0, -1.0]))
    np.testing.assert_allclose(teacher.predict(cnn.extract_patches(imgs, 3)), y, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(F.reshape(2, -1), axis=1), 1.0)
    X, ys, g = spectral_teacher_signals(9, 12, n_frequencies=2, noise=0.0, seed=1)
    np.testing.assert_allclose(X @ g, ys)
    assert np.sum(np.abs(np.fft.fft(g)) > 1e-9) == 4


def test_filter_alignment_finds_planted_filters_up_to_scale_and_orders_by_strength():
    planted = np.array([[[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 1.0]]])  # two unit 2x2 filters
    net = cnn.TwoLayerCNN(filters=np.array([[0.0, 0.0, 0.0, 3.0], [0.5, 0.5, 0.0, 0.0]]), w2=np.array([-2.0, 1.0]))
    table = cnn.filter_alignment(net, planted, 5)
    assert table["rank"].tolist() == [0, 1] and table["sign"].tolist() == [-1.0, 1.0]
    assert table["strength"].tolist() == pytest.approx([6.0, np.sqrt(0.5)])
    assert table["best cosine to planted"].tolist() == pytest.approx([1.0, np.sqrt(0.5)])
    assert table.loc[0, ["u0", "u1", "u2", "u3"]].tolist() == pytest.approx([0.0, 0.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="planted filters have 9 entries"):
        cnn.filter_alignment(net, np.ones((1, 3, 3)), 1)


# ---------------------------------------------------------------------------------------------------------------
# Three-layer circular CNN with one ReLU layer (DFT-domain l1 program)
# ---------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def circular_relu_instance():
    """An instance also solved by an independent implementation (own operators): 10 signals of length 4, beta = 0.1."""
    from cvxnn_core.cnn import solve_circular_relu

    rng = np.random.default_rng(2)
    X = rng.standard_normal((10, 4))
    a, b = rng.standard_normal(4), rng.standard_normal(4)
    y = np.maximum(X @ a, 0) - 0.5 * np.maximum(X @ b, 0) + 0.1 * rng.standard_normal(10)
    D = enumerate_patterns(X)
    return X, y, D, solve_circular_relu(X, y, 0.1, D)


def test_circular_relu_program_matches_reference(circular_relu_instance):
    from cvxnn_core.programs import solve_relu

    X, y, D, res = circular_relu_instance
    assert D.shape[1] == 260
    assert res.objective == pytest.approx(0.2078583269, rel=1e-8)  # the independent verification script
    assert res.objective <= solve_relu(X, y, 0.1, D).objective  # N(z) <= ||z||: the CNN can do no worse than FC


def test_circular_relu_recovery(circular_relu_instance):
    from cvxnn_core.cnn import circular_relu_network, circular_relu_objective

    X, y, _, res = circular_relu_instance
    net = circular_relu_network(res)
    np.testing.assert_allclose(np.linalg.norm(net.U, axis=1), 1.0, atol=1e-12)
    assert circular_relu_objective(X, y, net, 0.1) == pytest.approx(res.objective, rel=1e-6)


def test_circular_lemma_lower_bound():
    """||w2|| >= ||F C(u)^T w2||_1 / sqrt(d) for every unit filter u (the lemma's Cauchy-Schwarz half)."""
    from cvxnn_core.cnn import dft_l1

    rng = np.random.default_rng(0)
    d = 6
    idx = (np.arange(d)[:, None] - np.arange(d)[None, :]) % d
    for _ in range(200):
        u = rng.standard_normal(d)
        u /= np.linalg.norm(u)
        w2 = rng.standard_normal(d)
        assert dft_l1(u[idx].T @ w2) <= np.linalg.norm(w2) * (1 + 1e-12)


def test_circular_relu_adam_not_below(circular_relu_instance):
    from cvxnn_core.cnn import circular_relu_objective, train_circular_relu

    X, y, _, res = circular_relu_instance
    for run in train_circular_relu(X, y, 0.1, 6, seeds=[0, 1], epochs=1500):
        assert run.objective >= res.objective * (1 - 1e-6)
        assert run.objective == pytest.approx(circular_relu_objective(X, y, run.net, 0.1), rel=1e-9)
