"""scikit-learn estimators: fit / predict / score round trips, the sklearn API contract, errors.

Real data are scikit-learn's bundled sets (offline), standardised and subsampled to 150 rows with a
fixed seed so that each fit takes about a second.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.estimator_checks import check_estimator

from cvxnn_core.datasets import add_intercept
from cvxnn_core.estimators import ConvexReLUClassifier, ConvexReLURegressor
from cvxnn_core.programs import convex_predictions
from cvxnn_core.recovery import nonconvex_objective

N_SUBSAMPLE = 150
SUBSAMPLE_SEED = 0
MIN_TRAIN_ACCURACY = 0.9
MIN_TRAIN_R2 = 0.3
OBJECTIVE_RTOL = 1e-6  # objective_ vs nonconvex_objective of net_ on the design matrix


def _standardised_subsample(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    idx = np.random.default_rng(SUBSAMPLE_SEED).choice(len(y), N_SUBSAMPLE, replace=False)
    X = X[idx]
    return (X - X.mean(axis=0)) / X.std(axis=0), y[idx]


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, np.ndarray]:
    """Breast cancer (30 features), 150 rows, labels 0/1 as shipped by scikit-learn."""
    return _standardised_subsample(*load_breast_cancer(return_X_y=True))


@pytest.fixture(scope="module")
def diabetes() -> tuple[np.ndarray, np.ndarray]:
    """Diabetes (10 features), 150 rows, standardised target."""
    X, y = _standardised_subsample(*load_diabetes(return_X_y=True))
    return X, (y - y.mean()) / y.std()


@pytest.fixture(scope="module")
def fitted_classifiers(cancer):
    """``{loss: (estimator, labels)}``; the hinge model is fitted on string labels."""
    X, y = cancer
    out = {}
    for loss in ("squared", "hinge"):
        labels = y if loss == "squared" else np.where(y == 1, "benign", "malignant")
        out[loss] = (ConvexReLUClassifier(beta=1.0, n_patterns=20, loss=loss, random_state=0).fit(X, labels), labels)
    return out


@pytest.fixture(scope="module")
def fitted_regressor(diabetes):
    X, y = diabetes
    return ConvexReLURegressor(beta=1.0, n_patterns=30, random_state=0).fit(X, y)


@pytest.mark.parametrize("loss", ["squared", "hinge"])
def test_classifier_fits_breast_cancer(cancer, fitted_classifiers, loss):
    X, _ = cancer
    clf, labels = fitted_classifiers[loss]
    np.testing.assert_array_equal(clf.classes_, np.unique(labels))
    pred = clf.predict(X)
    assert pred.shape == labels.shape
    assert set(np.unique(pred)) <= set(clf.classes_)
    acc = clf.score(X, labels)
    assert acc > MIN_TRAIN_ACCURACY, f"{loss}: train accuracy {acc:.3f}"
    assert acc == pytest.approx(np.mean(pred == labels), abs=1e-15)
    np.testing.assert_array_equal(pred, clf.classes_[(clf.decision_function(X) >= 0).astype(int)])


def test_regressor_fits_diabetes(diabetes, fitted_regressor):
    X, y = diabetes
    pred = fitted_regressor.predict(X)
    assert pred.shape == y.shape
    r2 = fitted_regressor.score(X, y)
    assert r2 > MIN_TRAIN_R2, f"train R^2 {r2:.3f}"
    assert r2 == pytest.approx(1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2), rel=1e-12)


@pytest.mark.parametrize("loss", ["squared", "hinge"])
def test_classifier_objective_is_the_nonconvex_objective_of_its_network(cancer, fitted_classifiers, loss):
    X, _ = cancer
    clf, labels = fitted_classifiers[loss]
    y_pm = np.where(labels == clf.classes_[1], 1.0, -1.0)
    value = nonconvex_objective(add_intercept(X), y_pm, clf.net_, clf.beta, loss)
    assert clf.objective_ == pytest.approx(value, rel=OBJECTIVE_RTOL)
    assert clf.objective_ == clf.result_.objective
    assert clf.net_.W1.shape[1] == X.shape[1] + 1
    assert clf.n_features_in_ == X.shape[1]


def test_regressor_objective_is_the_nonconvex_objective_of_its_network(diabetes, fitted_regressor):
    X, y = diabetes
    value = nonconvex_objective(add_intercept(X), y, fitted_regressor.net_, fitted_regressor.beta)
    assert fitted_regressor.objective_ == pytest.approx(value, rel=OBJECTIVE_RTOL)


def test_fit_without_intercept_uses_the_raw_features(regression):
    reg = ConvexReLURegressor(beta=regression.beta, n_patterns=20, fit_intercept=False).fit(regression.Z, regression.y)
    assert reg.net_.W1.shape[1] == regression.Z.shape[1]
    value = nonconvex_objective(regression.Z, regression.y, reg.net_, regression.beta)
    assert reg.objective_ == pytest.approx(value, rel=OBJECTIVE_RTOL)


def test_refitting_with_the_same_seed_gives_the_same_model(regression):
    a = ConvexReLURegressor(beta=regression.beta, n_patterns=15, random_state=3).fit(regression.Z, regression.y)
    b = ConvexReLURegressor(beta=regression.beta, n_patterns=15, random_state=3).fit(regression.Z, regression.y)
    np.testing.assert_array_equal(a.patterns_, b.patterns_)
    np.testing.assert_allclose(a.predict(regression.Z), b.predict(regression.Z), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls", [ConvexReLUClassifier, ConvexReLURegressor])
def test_get_params_set_params_and_clone_round_trip(cls):
    est = cls(beta=0.5, n_patterns=7, random_state=3, fit_intercept=False)
    params = est.get_params()
    assert params == {
        "beta": 0.5,
        "n_patterns": 7,
        "solver": None,
        "random_state": 3,
        "fit_intercept": False,
        "loss": "squared",
        "max_time": None,
        "solver_options": None,
        "progress": None,
    }
    assert est.set_params(beta=2.0, n_patterns=9) is est
    assert (est.beta, est.n_patterns) == (2.0, 9)
    twin = clone(est)
    assert twin is not est
    assert twin.get_params() == est.get_params()


def test_clone_of_a_fitted_estimator_is_unfitted(fitted_regressor, diabetes):
    twin = clone(fitted_regressor)
    assert not hasattr(twin, "net_")
    with pytest.raises(NotFittedError):
        twin.predict(diabetes[0])


@pytest.mark.parametrize(
    ("cls", "method"),
    [
        (ConvexReLUClassifier, "predict"),
        (ConvexReLUClassifier, "decision_function"),
        (ConvexReLURegressor, "predict"),
    ],
)
def test_predict_before_fit_raises_not_fitted_error(cls, method, regression):
    with pytest.raises(NotFittedError):
        getattr(cls(), method)(regression.Z)


def test_classifier_handles_several_classes_one_vs_rest_over_shared_patterns(regression):
    labels = np.array(["a", "b", "c"])[np.digitize(regression.Z[:, 0], [-0.33, 0.33])]
    clf = ConvexReLUClassifier(beta=0.01, n_patterns=30, random_state=0).fit(regression.Z, labels)
    assert list(clf.classes_) == ["a", "b", "c"] and len(clf.nets_) == 3
    scores = clf.decision_function(regression.Z)
    assert scores.shape == (regression.Z.shape[0], 3)
    np.testing.assert_array_equal(clf.predict(regression.Z), clf.classes_[np.argmax(scores, axis=1)])
    assert clf.score(regression.Z, labels) >= 0.9  # three slabs along x_1: separable by a few ReLUs
    # Each column is the binary program "class k against the rest" on the same patterns.
    for k, label in enumerate(clf.classes_):
        binary = ConvexReLUClassifier(beta=0.01, n_patterns=30, random_state=0).fit(regression.Z, labels == label)
        np.testing.assert_array_equal(binary.patterns_, clf.patterns_)
        assert binary.objective_ == pytest.approx(clf.objectives_[k], rel=1e-6)


@pytest.mark.parametrize("solver", [None, "gated"])
@pytest.mark.parametrize("cls", [ConvexReLURegressor, ConvexReLUClassifier])
def test_estimators_pass_scikit_learn_check_estimator(cls, solver):
    # the gated route at beta = 0.1 and at most 500 FISTA steps: the checks test the API, not the optimum (on some
    # check data FISTA would take its 10,000 steps)
    options = None if solver is None else {"tol": 1e-3, "max_iters": 500}
    estimator = cls(n_patterns=20, solver=solver, beta=1e-3 if solver is None else 0.1, solver_options=options)
    results = check_estimator(estimator, on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert failed == []
    assert sum(r["status"] == "passed" for r in results) >= 50


def test_classifier_with_a_single_class_raises(regression):
    with pytest.raises(ValueError, match="binary"):
        ConvexReLUClassifier().fit(regression.Z, np.ones(regression.Z.shape[0]))


def test_regressor_refuses_a_classification_loss(regression):
    with pytest.raises(ValueError, match="loss"):
        ConvexReLURegressor(loss="hinge").fit(regression.Z, regression.y)


def test_predict_with_the_wrong_number_of_features_raises(fitted_regressor, diabetes):
    with pytest.raises(ValueError, match="features"):
        fitted_regressor.predict(diabetes[0][:, :5])


@pytest.mark.parametrize(
    ("param", "value", "match"),
    [("beta", -1.0, "beta"), ("n_patterns", 0, "n_patterns"), ("random_state", -2, "random_state"),
     ("loss", "l1", "loss")],
)
def test_invalid_hyperparameters_are_rejected_at_fit(regression, param, value, match):
    est = ConvexReLUClassifier(**{param: value})
    with pytest.raises(ValueError, match=match):
        est.fit(regression.Z, np.where(regression.y > np.median(regression.y), 1, 0))


GATED_TOL = 1e-7  # tol of the gated route in these tests (float64 solves)


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_gated_route_network_has_the_gated_predictions_and_brackets_the_relu_optimum(cancer, loss):
    # gated optimum <= ReLU optimum over the same patterns <= objective of the decomposed network
    X, y = cancer
    clf = ConvexReLUClassifier(beta=1.0, n_patterns=20, loss=loss, solver="gated", random_state=0,
                               solver_options={"tol": GATED_TOL}).fit(X, y)
    assert clf.route_ == "gated" and clf.gap_ <= GATED_TOL and clf.results_[0].converged
    split = clf.decompositions_[0]
    assert split.no_split == () and split.prediction_error <= 1e-9 and split.penalty_ratio >= 1 - 1e-12
    Xd = add_intercept(X)
    gated = convex_predictions(Xd, clf.patterns_, clf.result_.V)
    np.testing.assert_allclose(clf.decision_function(X), gated, atol=1e-9 * np.max(np.abs(gated)), rtol=0)
    relu = ConvexReLUClassifier(beta=1.0, n_patterns=20, loss=loss, random_state=0).fit(X, y)
    assert relu.route_ == "relu" and np.array_equal(relu.patterns_, clf.patterns_)
    labels = np.where(y == 1, 1.0, -1.0)
    network = nonconvex_objective(Xd, labels, clf.net_, 1.0, loss=loss)
    assert clf.objective_ <= relu.objective_ * (1 + 1e-6) and relu.objective_ <= network * (1 + 1e-6)
    assert clf.score(X, y) >= MIN_TRAIN_ACCURACY


def test_gated_route_multiclass_is_one_program_per_class(regression):
    labels = np.array(["a", "b", "c"])[np.digitize(regression.Z[:, 0], [-0.33, 0.33])]
    options = {"tol": GATED_TOL}
    clf = ConvexReLUClassifier(beta=0.01, n_patterns=30, solver="gated", solver_options=options)
    clf.fit(regression.Z, labels)
    assert len(clf.nets_) == len(clf.decompositions_) == 3 and clf.gap_ <= GATED_TOL
    for k, label in enumerate(clf.classes_):
        binary = ConvexReLUClassifier(beta=0.01, n_patterns=30, solver="gated", solver_options=options)
        binary.fit(regression.Z, labels == label)
        assert binary.objective_ == pytest.approx(clf.objectives_[k], rel=1e-7)


def test_solver_none_takes_the_gated_route_above_the_size_threshold(regression, monkeypatch):
    from cvxnn_core import estimators

    monkeypatch.setattr(estimators, "AUTO_CVXPY_SIZE", 0)
    est = ConvexReLURegressor(beta=0.1, n_patterns=10).fit(regression.Z, regression.y)
    assert est.route_ == "gated" and est.decompositions_[0].prediction_error <= 1e-9


def test_gated_route_at_max_time_warns_with_the_gap_it_reached(regression):
    est = ConvexReLURegressor(beta=1e-4, n_patterns=30, solver="gated", max_time=1e-3,
                              solver_options={"tol": 1e-12, "check_every": 1})
    with pytest.warns(ConvergenceWarning, match="largest certified relative gap is"):
        est.fit(regression.Z, regression.y)
    assert est.gap_ > 1e-12 and not est.result_.converged


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gated_route_on_cuda_matches_cpu_on_mnist_sized_rows():
    # 20,000 rows of 785 features, 100 patterns: the estimator's device= path at the size of the MNIST chapter
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 784))
    y = (X[:, :10].sum(axis=1) > 0).astype(int)
    fits = {device: ConvexReLUClassifier(beta=200.0, n_patterns=100, solver="gated",
                                         solver_options={"tol": 1e-4, "device": device}).fit(X, y)
            for device in ("cpu", "cuda")}
    assert fits["cuda"].result_.device.startswith("cuda") and fits["cuda"].gap_ <= 1e-4
    assert fits["cuda"].objective_ == pytest.approx(fits["cpu"].objective_, rel=2e-4)
    assert fits["cuda"].decompositions_[0].prediction_error <= 1e-9
