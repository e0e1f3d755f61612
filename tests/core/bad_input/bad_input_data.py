"""Tiny seeded data and helpers shared by the bad-input tables (``test_bad_input_*.py`` beside this file).

Each table is a list ``CASES`` of rows ``(case id, call, exception type, message regex)``. A case id reads
``"<target>: <what is wrong>"``: the target names the public function, class or method the row exercises as
``<package>.<name>`` (a method as ``<package>.<Class>.<method>``, a CLI command as ``cli.<command>``).
``test_bad_input_coverage.py`` fails when a public name of a ``cvxnn_core`` package has no row.
"""

from __future__ import annotations

import contextlib
import io
import tempfile

import numpy as np

from cvxnn_core import datasets, patterns, programs, recovery

RNG = np.random.default_rng(0)
N = 12
Z = RNG.uniform(-1, 1, (N, 2))
X = datasets.add_intercept(Z)  # (12, 3)
Y = np.sin(3 * Z[:, 0]) + Z[:, 1]
Y_PM = np.where(Y > np.median(Y), 1.0, -1.0)
D = patterns.sample_patterns(X, 10, seed=0)
P = D.shape[1]
BETA = 0.05
NET = recovery.TwoLayerNet(W1=RNG.standard_normal((4, 3)), w2=RNG.standard_normal(4))
RESULT = programs.solve_relu(X, Y, BETA, D)
IMAGES = RNG.standard_normal((6, 5, 5))
NAN_X = np.where(np.eye(N, 3, dtype=bool), np.nan, X)


class CLIError(Exception):
    """The CLI returned a non-zero code; the message is what it printed on stderr (and stdout)."""


def cli(main, argv: list[str]) -> None:
    """Run a CLI ``main(argv)``; raise :class:`CLIError` with its output when it exits non-zero."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code
    if code:
        raise CLIError(err.getvalue())


def tmpdir() -> str:
    return tempfile.mkdtemp(prefix="cvxnn-bad-input-")
