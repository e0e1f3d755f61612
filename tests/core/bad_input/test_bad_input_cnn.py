"""Bad input gets a clear error: cnn.

Rows as described in ``bad_input_data``."""

from __future__ import annotations

import pytest
from fixtures_cnn_deep import *  # noqa: F403 - the fixtures of these rows

CASES = [
    ("cnn.extract_patches: cnn extract_patches patch_size 0", lambda: cnn.extract_patches(IMAGES, 0), ValueError,
     "patch_size must be a positive integer, got 0"),
    ("cnn.extract_patches: cnn extract_patches padding -1", lambda: cnn.extract_patches(IMAGES, 2, padding=-1),
     ValueError, "padding must be a non-negative integer, got -1"),
    ("cnn.extract_patches: cnn extract_patches complex", lambda: cnn.extract_patches(IMAGES + 1j, 2), TypeError,
     "images is complex"),
    ("cnn.check_patches: cnn check_patches 2-D", lambda: cnn.check_patches(X), ValueError,
     r"patches must have shape \(n, K, h\) \(see extract_patches\), got shape \(12, 3\)"),
    ("cnn.check_patches: cnn check_patches complex", lambda: cnn.check_patches(_CD_PT + 1j), TypeError,
     "patches is complex"),
    ("cnn.add_patch_intercept: cnn add_patch_intercept NaN", lambda: cnn.add_patch_intercept(_CD_PT * _CD_NAN),
     ValueError, "patches contains NaN or inf"),
    ("cnn.stack_patches: cnn stack_patches empty", lambda: cnn.stack_patches(np.zeros((0, 3, 3))), ValueError,
     r"patches must have shape \(n, K, h\)"),
    ("cnn.sample_patch_patterns: cnn sample_patch_patterns n_patterns 0",
     lambda: cnn.sample_patch_patterns(_CD_PT, 0), ValueError, "n_patterns must be a positive integer"),
    ("cnn.enumerate_patch_patterns: cnn enumerate_patch_patterns too many",
     lambda: cnn.enumerate_patch_patterns(cnn.extract_patches(IMAGES, 3)), ValueError,
     r"has up to [\d,]+ patterns .*sample_patterns"),
    ("cnn.solve_cnn_relu: cnn solve_cnn_relu patterns rows",
     lambda: cnn.solve_cnn_relu(_CD_PT, _CD_Y6, BETA, _CD_DP[:-1]), ValueError,
     r"patterns must have shape \(n, P\) = \(24, P\), got shape \(23, "),
    ("cnn.solve_cnn_relu: cnn solve_cnn_relu pooling max",
     lambda: cnn.solve_cnn_relu(_CD_PT, _CD_Y6, BETA, _CD_DP, pooling="max"), ValueError,
     r"pooling must be one of \('average', 'sum'\)"),
    ("cnn.ConvexCNNResult.predict: cnn ConvexCNNResult.predict other K",
     lambda: _cd_cnn_result().predict(_CD_PT_OTHER), ValueError,
     r"patches give n K = 96 patch rows of h = 4 but the result's patterns have 24"),
    ("cnn.convex_cnn_predictions: cnn convex_cnn_predictions patterns rows",
     lambda: cnn.convex_cnn_predictions(_CD_PT, _CD_DP[:-1], np.zeros((_CD_P, 4)), "average"), ValueError,
     r"patterns must have shape \(n, P\) = \(24, P\), got shape \(23, "),
    ("cnn.convex_cnn_predictions: cnn convex_cnn_predictions U width",
     lambda: cnn.convex_cnn_predictions(_CD_PT, _CD_DP, np.zeros((_CD_P, 3)), "average"), ValueError,
     r"U must have shape \(P, h\) = \(\d+, 4\), got shape \(\d+, 3\)"),
    ("cnn.convex_cnn_predictions: cnn convex_cnn_predictions patterns int",
     lambda: cnn.convex_cnn_predictions(_CD_PT, _CD_DP.astype(int), np.zeros((_CD_P, 4)), "average"), TypeError,
     "patterns must be a boolean array"),
    ("cnn.convex_cnn_objective: cnn convex_cnn_objective beta -1",
     lambda: cnn.convex_cnn_objective(_CD_PT, _CD_Y6, _CD_DP, np.zeros((_CD_P, 4)), np.zeros((_CD_P, 4)), -1.0),
     ValueError, "beta must be a finite number >= 0"),
    ("cnn.convex_cnn_objective: cnn convex_cnn_objective W shape",
     lambda: cnn.convex_cnn_objective(_CD_PT, _CD_Y6, _CD_DP, np.zeros((_CD_P, 4)), np.zeros((1, 4)), BETA),
     ValueError, r"W must have shape \(P, h\) = \(\d+, 4\), got shape \(1, 4\)"),
    ("cnn.convex_cnn_objective: cnn convex_cnn_objective y NaN",
     lambda: cnn.convex_cnn_objective(_CD_PT, _CD_Y6 * _CD_NAN, _CD_DP, np.zeros((_CD_P, 4)),
                                      np.zeros((_CD_P, 4)), BETA), ValueError, "y contains NaN or inf"),
    ("cnn.TwoLayerCNN: cnn TwoLayerCNN w2 length", lambda: cnn.TwoLayerCNN(np.ones((2, 4)), np.ones(3)),
     ValueError, "filters has 2 rows"),
    ("cnn.TwoLayerCNN: cnn TwoLayerCNN filters NaN", lambda: cnn.TwoLayerCNN(np.full((2, 4), _CD_NAN), np.ones(2)),
     ValueError, "filters contains NaN or inf"),
    ("cnn.TwoLayerCNN: cnn TwoLayerCNN filters 3-D", lambda: cnn.TwoLayerCNN(np.ones((2, 2, 2)), np.ones(2)),
     ValueError, r"filters must have shape \(m, h\)"),
    ("cnn.TwoLayerCNN.predict: cnn TwoLayerCNN.predict h", lambda: _CD_TL.predict(cnn.extract_patches(IMAGES, 3)),
     ValueError, "patches have h = 9 entries but the filters have 4"),
    ("cnn.strongest_filters: cnn strongest_filters k 0", lambda: cnn.strongest_filters(_CD_TL, 0), ValueError,
     "k must be a positive integer"),
    ("cnn.strongest_filters: cnn strongest_filters not a CNN", lambda: cnn.strongest_filters(NET, 1), TypeError,
     r"net must be a cnn\.TwoLayerCNN, got TwoLayerNet"),
    ("cnn.filter_alignment: cnn filter_alignment planted h",
     lambda: cnn.filter_alignment(_CD_TL, np.ones((2, 3)), 1), ValueError,
     "planted filters have 3 entries but the network's filters 4"),
    ("cnn.filter_alignment: cnn filter_alignment planted zero",
     lambda: cnn.filter_alignment(_CD_TL, np.zeros((1, 4)), 1), ValueError, "planted filter 0 is zero"),
    ("cnn.filter_alignment: cnn filter_alignment planted NaN",
     lambda: cnn.filter_alignment(_CD_TL, np.full((1, 4), _CD_NAN), 1), ValueError, "planted contains NaN or inf"),
    ("cnn.filter_alignment: cnn filter_alignment planted empty",
     lambda: cnn.filter_alignment(_CD_TL, np.zeros((0, 4)), 1), ValueError, "planted must hold at least one filter"),
    ("cnn.cnn_objective: cnn cnn_objective y short", lambda: cnn.cnn_objective(_CD_PT, _CD_Y6[:-1], _CD_TL, BETA),
     ValueError, "y has 5 rows but X has 6"),
    ("cnn.cnn_objective: cnn cnn_objective net string", lambda: cnn.cnn_objective(_CD_PT, _CD_Y6, "net", BETA),
     TypeError, r"net must be a cnn\.TwoLayerCNN, got str"),
    ("cnn.cnn_network: cnn cnn_network ConvexResult", lambda: cnn.cnn_network(RESULT), TypeError,
     r"result must be a cnn\.ConvexCNNResult .*got ConvexResult"),
    ("cnn.complete_program_cost: cnn complete_program_cost y short",
     lambda: cnn.complete_program_cost(IMAGES[:4, 0, :], _CD_Y6[:3], BETA, 2), ValueError,
     "y has 3 rows but X has 4"),
    ("cnn.complete_program_cost: cnn complete_program_cost images",
     lambda: cnn.complete_program_cost(IMAGES[:2, :3, :3], _CD_Y6[:2], BETA, 2), ValueError,
     r"signals must have shape \(n, L\)"),
    ("cnn.complete_program_cost: cnn complete_program_cost max_patterns",
     lambda: cnn.complete_program_cost(IMAGES[:4, 0, :], _CD_Y6[:4], BETA, 2, max_patterns=3), ValueError,
     r"has up to [\d,]+ patterns \(max_patterns = 3\)"),
    ("cnn.train_cnn: cnn train_cnn width 0", lambda: cnn.train_cnn(_CD_PT, _CD_Y6, 0, BETA, epochs=2), ValueError,
     "width must be a positive integer, got 0"),
    ("cnn.train_cnn: cnn train_cnn optimizer", lambda: cnn.train_cnn(_CD_PT, _CD_Y6, 2, BETA, optimizer="lbfgs"),
     ValueError, r"optimizer must be one of \('adam', 'sgd'\)"),
    ("cnn.train_cnn: cnn train_cnn max_entries",
     lambda: cnn.train_cnn(_CD_PT, _CD_Y6, 2, BETA, epochs=2, max_entries=10), ValueError,
     r"would build .*\(max_entries = 10\).*pass a larger max_entries"),
    ("cnn.train_cnn_sweep: cnn train_cnn_sweep seeds empty",
     lambda: cnn.train_cnn_sweep(_CD_PT, _CD_Y6, BETA, widths=[2], seeds=[], optimizers={"adam": None}, epochs=2),
     ValueError, r"seeds is empty|widths, seeds and optimizers must each name at least one value"),
    ("cnn.train_cnn_sweep: cnn train_cnn_sweep optimizers list",
     lambda: cnn.train_cnn_sweep(_CD_PT, _CD_Y6, BETA, widths=[2], seeds=[0], optimizers=["adam"], epochs=2),
     TypeError, r"optimizers must be a dict"),
    ("cnn.train_cnn_sweep: cnn train_cnn_sweep widths int",
     lambda: cnn.train_cnn_sweep(_CD_PT, _CD_Y6, BETA, widths=2, seeds=[0], optimizers={"adam": None}, epochs=2),
     TypeError, r"widths must be a list of positive integers"),
    ("cnn.train_cnn_sweep: cnn train_cnn_sweep seeds int",
     lambda: cnn.train_cnn_sweep(_CD_PT, _CD_Y6, BETA, widths=[2], seeds=0, optimizers={"adam": None}, epochs=2),
     TypeError, r"seeds must be a list of non-negative integers"),
    ("cnn.circular_convolve: cnn circular_convolve u length", lambda: cnn.circular_convolve(np.ones(3), _CD_S),
     ValueError, r"u must have shape \(d,?\) = \(4,\), got shape \(3,\)"),
    ("cnn.circular_convolve: cnn circular_convolve X 1-D", lambda: cnn.circular_convolve(np.ones(4), _CD_S[0]),
     ValueError, r"X must have shape \(n, d\)"),
    ("cnn.circular_convolve: cnn circular_convolve X NaN",
     lambda: cnn.circular_convolve(np.ones(4), _CD_S * _CD_NAN), ValueError, "X contains NaN or inf"),
    ("cnn.circular_cnn_predictions: cnn circular_cnn_predictions U width",
     lambda: cnn.circular_cnn_predictions(_CD_S, np.ones((2, 3)), np.ones((2, 3))), ValueError,
     r"U and W2 must both have shape \(m, d\) with m >= 1 and d = 4"),
    ("cnn.circular_cnn_predictions: cnn circular_cnn_predictions U NaN",
     lambda: cnn.circular_cnn_predictions(_CD_S, np.full((2, 4), _CD_NAN), np.ones((2, 4))), ValueError,
     "U and W2 contain NaN or inf"),
    ("cnn.circular_cnn_predictions: cnn circular_cnn_predictions no channel",
     lambda: cnn.circular_cnn_predictions(_CD_S, np.zeros((0, 4)), np.zeros((0, 4))), ValueError,
     r"U and W2 must both have shape \(m, d\) with m >= 1 and d = 4, got \(0, 4\)"),
    ("cnn.circular_cnn_objective: cnn circular_cnn_objective loss",
     lambda: cnn.circular_cnn_objective(_CD_S, _CD_Y6, np.ones((1, 4)), np.ones((1, 4)), BETA, loss="l1"),
     ValueError, "loss must be one of"),
    ("cnn.circular_cnn_objective: cnn circular_cnn_objective W2 NaN",
     lambda: cnn.circular_cnn_objective(_CD_S, _CD_Y6, np.ones((1, 4)), np.full((1, 4), _CD_NAN), BETA),
     ValueError, "U and W2 contain NaN or inf"),
    ("cnn.circular_linear_model: cnn circular_linear_model shapes",
     lambda: cnn.circular_linear_model(np.ones((2, 5)), np.ones((2, 4))), ValueError,
     r"U and W2 must have the same shape \(m, d\)"),
    ("cnn.circular_linear_model: cnn circular_linear_model NaN",
     lambda: cnn.circular_linear_model(np.full((1, 4), _CD_NAN), np.ones((1, 4))), ValueError,
     "U contains NaN or inf"),
    ("cnn.circular_linear_model: cnn circular_linear_model 3-D",
     lambda: cnn.circular_linear_model(np.ones((2, 2, 4)), np.ones((2, 2, 4))), ValueError,
     r"U must have shape \(m, d\)"),
    ("cnn.circular_linear_model: cnn circular_linear_model string",
     lambda: cnn.circular_linear_model("a", "b"), TypeError, r"U must be a numeric array of shape \(m, d\)"),
    ("cnn.dft_l1_objective: cnn dft_l1_objective g length",
     lambda: cnn.dft_l1_objective(_CD_S, _CD_Y6, np.ones(3), BETA), ValueError, r"g must have"),
    ("cnn.dft_l1_objective: cnn dft_l1_objective g NaN",
     lambda: cnn.dft_l1_objective(_CD_S, _CD_Y6, np.full(4, _CD_NAN), BETA), ValueError, "g contains NaN or inf"),
    ("cnn.circular_shift_operator: cnn circular_shift_operator 1-D",
     lambda: cnn.circular_shift_operator(_CD_S[0]), ValueError, r"X must have shape \(n, d\)"),
    ("cnn.circular_shift_operator: cnn circular_shift_operator max_entries",
     lambda: cnn.circular_shift_operator(_CD_S, max_entries=10), ValueError,
     r"would build .*\(max_entries = 10\).*pass a larger max_entries"),
    ("cnn.circular_shift_augment: cnn circular_shift_augment y short",
     lambda: cnn.circular_shift_augment(_CD_S, _CD_Y6[:-1]), ValueError, "y has 5 rows but X has 6"),
    ("cnn.circular_cnn_from_dft: cnn circular_cnn_from_dft NaN", lambda: cnn.circular_cnn_from_dft([_CD_NAN, 1.0]),
     ValueError, r"g must be a finite vector of shape \(d,\)"),
    ("cnn.circular_cnn_from_dft: cnn circular_cnn_from_dft 2-D",
     lambda: cnn.circular_cnn_from_dft(np.ones((2, 4))), ValueError,
     r"g must be a finite vector of shape \(d,\), got shape \(2, 4\)"),
    ("cnn.circular_closed_form: cnn circular_closed_form not circulant",
     lambda: cnn.circular_closed_form(_CD_S, _CD_Y6, BETA), ValueError, "X\\^T X is circulant"),
    ("cnn.solve_circular_dft: cnn solve_circular_dft solver",
     lambda: cnn.solve_circular_dft(_CD_S, _CD_Y6, BETA, solver="NOPE"), Exception, "solver 'NOPE' is not installed"),
    ("cnn.solve_circular_dft: cnn solve_circular_dft hinge labels",
     lambda: cnn.solve_circular_dft(_CD_S, (Y_PM[:6] + 1) / 2, BETA, loss="hinge"), ValueError,
     r"loss='hinge' needs y in \{-1, \+1\}"),
    ("cnn.solve_circular_nuclear: cnn solve_circular_nuclear y short",
     lambda: cnn.solve_circular_nuclear(_CD_S, _CD_Y6[:-1], BETA), ValueError, "y has 5 rows but X has 6"),
    ("cnn.solve_circular_nuclear: cnn solve_circular_nuclear max_d",
     lambda: cnn.solve_circular_nuclear(_CD_S, _CD_Y6, BETA, max_d=2), ValueError,
     r"would build .*\(max_d = 2\).*solve_circular_dft.*pass a larger max_d"),
    ("cnn.dft_l1: cnn dft_l1 NaN", lambda: cnn.dft_l1(np.full(4, _CD_NAN)), ValueError, "v contains NaN or inf"),
    ("cnn.dft_l1: cnn dft_l1 scalar", lambda: cnn.dft_l1(3.0), ValueError, r"v must have shape \(d,?\)"),
    ("cnn.CircularReLUNet: cnn CircularReLUNet w3 length",
     lambda: cnn.CircularReLUNet(np.ones((2, 4)), np.ones((2, 4)), np.ones(3)), ValueError,
     r"U and W2 must be \(m, d\) and w3 \(m,\)"),
    ("cnn.CircularReLUNet: cnn CircularReLUNet NaN",
     lambda: cnn.CircularReLUNet(np.full((2, 4), _CD_NAN), np.ones((2, 4)), np.ones(2)), ValueError,
     "U, W2 and w3 contain NaN or inf"),
    ("cnn.CircularReLUNet: cnn CircularReLUNet 3-D",
     lambda: cnn.CircularReLUNet(np.ones((2, 2, 4)), np.ones((2, 2, 4)), np.ones(2)), ValueError,
     r"U and W2 must be \(m, d\) and w3 \(m,\), got \(2, 2, 4\)"),
    ("cnn.CircularReLUNet.predict: cnn CircularReLUNet.predict d", lambda: _CD_CNET.predict(X), ValueError,
     "X has signals of length 3 but the filters have length 4"),
    ("cnn.circular_relu_objective: cnn circular_relu_objective filter norm",
     lambda: cnn.circular_relu_objective(_CD_S, _CD_Y6, cnn.CircularReLUNet(np.ones((1, 4)), np.ones((1, 4)),
                                                                            np.ones(1)), BETA), ValueError,
     r"filter 0 has norm 2 > 1"),
    ("cnn.circular_relu_objective: cnn circular_relu_objective not a net",
     lambda: cnn.circular_relu_objective(X, Y, NET, BETA), TypeError,
     r"net must be a cnn\.CircularReLUNet, got TwoLayerNet"),
    ("cnn.circular_beta_max: cnn circular_beta_max patterns rows",
     lambda: cnn.circular_beta_max(_CD_S, _CD_Y6, _CD_DS[:-1]), ValueError,
     r"patterns must have shape \(n, P\) = \(6, P\)"),
    ("cnn.solve_circular_relu: cnn solve_circular_relu patterns int",
     lambda: cnn.solve_circular_relu(_CD_S, _CD_Y6, BETA, _CD_DS.astype(int)), TypeError,
     "patterns must be a boolean array"),
    ("cnn.solve_circular_relu: cnn solve_circular_relu beta NaN",
     lambda: cnn.solve_circular_relu(_CD_S, _CD_Y6, _CD_NAN, _CD_DS), ValueError, "beta must be a finite number"),
    ("cnn.CircularReLUResult.active_spectra: cnn CircularReLUResult.active_spectra rtol",
     lambda: _cd_circular_result().active_spectra(rtol=-1.0), ValueError, "rtol must be a positive number"),
    ("cnn.circular_relu_network: cnn circular_relu_network rtol 0",
     lambda: cnn.circular_relu_network(_cd_circular_result(), rtol=0.0), ValueError,
     "rtol must be a positive number"),
    ("cnn.circular_relu_network: cnn circular_relu_network ConvexResult",
     lambda: cnn.circular_relu_network(RESULT), TypeError,
     r"result must be a cnn\.CircularReLUResult .*got ConvexResult"),
    ("cnn.train_circular_relu: cnn train_circular_relu seeds empty", _cd_seeds_empty, ValueError,
     r"seeds is empty; pass at least one seed"),
    ("cnn.train_circular_relu: cnn train_circular_relu seeds int",
     lambda: cnn.train_circular_relu(_CD_S, _CD_Y6, BETA, 2, seeds=5, epochs=2), TypeError,
     "seeds must be a list of non-negative integers"),
    ("cnn.train_circular_relu: cnn train_circular_relu seed -1",
     lambda: cnn.train_circular_relu(_CD_S, _CD_Y6, BETA, 2, seeds=[-1], epochs=2), ValueError,
     r"seeds\[\w\] must be a non-negative integer, got -1"),
    ("cnn.train_circular_relu: cnn train_circular_relu lr_end > lr",
     lambda: cnn.train_circular_relu(_CD_S, _CD_Y6, BETA, 2, lr=1e-3, lr_end=1.0, epochs=2), ValueError,
     r"lr_end must be <= lr"),
    ("cnn.train_circular_relu: cnn train_circular_relu max_entries",
     lambda: cnn.train_circular_relu(_CD_S, _CD_Y6, BETA, 2, epochs=2, max_entries=10), ValueError,
     r"would build .*\(max_entries = 10\).*pass a larger max_entries"),
]


@pytest.mark.parametrize(("case", "call", "exc", "match"), CASES, ids=[case[0] for case in CASES])
def test_bad_input_raises_a_clear_error(case, call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# The zero optimum of the CNN programs and the default of quasinorm_penalised_min: behaviours, not errors.
def _check_circular_relu_zero_optimum():
    """solve_circular_relu: beta >= max_i ||fft(X^T D_i y)||_inf returns the exact zero network without a solver."""
    X_, y_, D_ = _CD_S, _CD_Y6, _CD_DS
    beta_max = float(np.max(np.abs(np.fft.fft(X_.T @ (D_ * y_[:, None]), axis=0))))
    assert np.isclose(cnn.circular_beta_max(X_, y_, D_), beta_max, rtol=1e-12)
    for factor in (1.0, 1.001, 10.0):
        r = cnn.solve_circular_relu(X_, y_, factor * beta_max, D_)
        assert not np.any(r.V) and not np.any(r.W) and "zero network" in r.solver and r.solve_time == 0.0
        assert r.objective == 0.5 * float(y_ @ y_)
        assert cnn.circular_relu_network(r).width == 0
    below = cnn.solve_circular_relu(X_, y_, 0.99 * beta_max, D_)  # the threshold is tight on this instance
    assert below.objective < 0.5 * float(y_ @ y_) and cnn.circular_relu_network(below).width >= 1
    empty = cnn.solve_circular_relu(X_, y_, BETA, np.zeros((6, 3), dtype=bool))  # all-inactive patterns
    assert not np.any(empty.V) and not np.any(empty.W)


def _check_cnn_relu_zero_optimum():
    """solve_cnn_relu (NEEDS FIX): beta >= max_i ||Z^T (D_i o pool^T lambda)|| returns the exact zero network."""
    n, K, h = _CD_PT.shape
    lam = np.repeat(_CD_Y6, K) / K  # -grad of the squared loss at f = 0, pulled back through average pooling
    Z_ = _CD_PT.reshape(n * K, h)
    beta_max = max(float(np.linalg.norm(Z_.T @ (_CD_DP[:, i] * lam))) for i in range(_CD_P))
    r = cnn.solve_cnn_relu(_CD_PT, _CD_Y6, 1.01 * beta_max, _CD_DP)
    assert r.n_active_blocks == 0 and "zero network" in r.solver
    assert cnn.cnn_network(r).width == 0


def _check_quasinorm_default_finds_the_minimum():
    value, s = gap.quasinorm_penalised_min(np.array([3.0, 2.0]), 0.5, 0.5)
    assert abs(value - 3.375) < 1e-9 and np.allclose(s, [2.5, 0.0], atol=1e-6)


EXTRA_CHECKS = [
    ("cnn solve_circular_relu zero optimum", _check_circular_relu_zero_optimum),
    ("cnn solve_cnn_relu zero optimum", _check_cnn_relu_zero_optimum),
    ("deep.gap quasinorm default minimum", _check_quasinorm_default_finds_the_minimum),
]


@pytest.mark.parametrize(("case", "check"), EXTRA_CHECKS, ids=[case[0] for case in EXTRA_CHECKS])
def test_reported_behaviour(case, check):
    check()
