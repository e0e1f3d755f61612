r"""Parallel three-layer ReLU networks as convex programs (Ergen & Pilanci, arXiv 2110.05518 and 2110.09548).

The programs are our derivation from the models as stated (module :mod:`.program` gives it): a group l1 over
two-level arrangements for weight decay with ``||W1_k||_F <= 1`` (exact for every width), and a group-l2 program
for the square-root path norm (exact for a fixed first-layer width). Modules:

* :mod:`.groups`: two-level arrangements and the group structures of the programs;
* :mod:`.networks`: :class:`ParallelThreeLayerNet`, its regularisers and rescalings;
* :mod:`.program`: the cvxpy program, the recovery map, the re-solve on active groups;
* :mod:`.training`: batched torch training of the non-convex networks;
* :mod:`.lowrank`: the low-rank approximate algorithm and its guarantee.
"""

from cvxnn_core.three_layer.classify import MODELS, OneVsRest, fit_one_vs_rest
from cvxnn_core.three_layer.groups import (
    Groups,
    all_sign_patterns,
    all_slots,
    concat_groups,
    group_count_bound,
    make_groups,
    network_groups,
    one_neuron_groups,
    sample_groups,
    sample_second_level,
    second_level_rank,
    wide_groups,
    width_groups,
)
from cvxnn_core.three_layer.lowrank import LowRankResult, approximation_bound, low_rank_approximation, solve_low_rank
from cvxnn_core.three_layer.networks import (
    REGULARIZERS,
    ParallelThreeLayerNet,
    balance,
    duplicate_neurons,
    objective,
    penalty,
    rescale_columns,
    rescale_frobenius,
)
from cvxnn_core.three_layer.program import (
    ThreeLayerResult,
    beta_max,
    recover_network,
    resolve_active,
    solve_three_layer,
)
from cvxnn_core.three_layer.training import three_layer_runs_table, train_three_layer, train_three_layer_sweep

__all__ = [
    "MODELS",
    "REGULARIZERS",
    "OneVsRest",
    "fit_one_vs_rest",
    "Groups",
    "LowRankResult",
    "ParallelThreeLayerNet",
    "ThreeLayerResult",
    "all_sign_patterns",
    "all_slots",
    "approximation_bound",
    "balance",
    "beta_max",
    "concat_groups",
    "duplicate_neurons",
    "group_count_bound",
    "low_rank_approximation",
    "make_groups",
    "network_groups",
    "objective",
    "one_neuron_groups",
    "penalty",
    "recover_network",
    "rescale_columns",
    "rescale_frobenius",
    "resolve_active",
    "sample_groups",
    "sample_second_level",
    "second_level_rank",
    "solve_low_rank",
    "solve_three_layer",
    "three_layer_runs_table",
    "train_three_layer",
    "train_three_layer_sweep",
    "wide_groups",
    "width_groups",
]
