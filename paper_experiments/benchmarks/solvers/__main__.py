"""``python -m paper_experiments.benchmarks.solvers``: the benchmark's command line (:func:`.runs.main`)."""

from paper_experiments.benchmarks.solvers.runs import main

raise SystemExit(main())
