"""The co-design's defaults, in one home: the CLI flags, ``CoDesignOptions``, ``InnerSettings`` and the passes read
them from here, so no two front doors can disagree.
"""

from __future__ import annotations

from typing import Any

#: Hardware evaluations of the outer search; sized so that DQN co-designs in about a minute on 2 cores.
BUDGET_HW = 16
#: Mapping evaluations per layer and hardware candidate in a co-design. 4000 evolve evaluations cost about twice
#: what 1500 random ones did once the sampler was vectorised (issue 13), and at equal CPU they end 0.86x lower in
#: EDP (geometric mean over DQN's and two ResNet-50 layers, schedulable mappings).
BUDGET_SW = 4000
#: Wall-time seconds per layer and hardware candidate in a co-design (``--inner-seconds``); ``None``: the inner budget
#: is in evaluations only. With both, each search stops at whichever ends first. A budget in evaluations gives the
#: same result for the same seed on any machine; one in seconds does not (it depends on the machine and its load).
INNER_SECONDS: float | None = None
#: Mapping evaluations of a stand-alone one-layer search (``search_mapping``, ``tvm-codesign search-mapping``):
#: well under a second.
MAPPING_SEARCH_BUDGET = 20000
#: Energy–cycles points a stand-alone one-layer search keeps.
MAPPING_SEARCH_PARETO_POINTS = 8
#: Energy–cycles points each layer's search keeps for the model's EDP choice in a co-design.
PARETO_POINTS = 6
#: The outer and inner strategies. ``evolve`` refines the best mappings found so far and wins at equal wall time
#: (``benchmarks/results/inner_search.md``); random sampling stops improving early.
OUTER_STRATEGY = "bo"
INNER_STRATEGY = "evolve"
#: The design is held to mappings TVM can schedule, as its schedules are emitted (the baselines are only scored).
SCHEDULABLE_ONLY = True
#: Share of the outer search's random candidates grown to fill the area budget (``HardwareSpace.fill_share``).
FILL_SHARE = 0.5
#: Local worker processes.
JOBS = 2
#: Outer-loop options of the model-based strategies: each hardware evaluation is a whole set of inner searches and
#: the outer budget is tens of evaluations, so the random initial design is kept short (the warm start adds the
#: presets on top); the strategies' own defaults are sized for the inner loop's hundreds of evaluations.
OUTER_DEFAULTS: dict[str, dict[str, Any]] = {"bo": {"n_initial": 8}, "skopt": {"n_initial": 8}, "xgb": {"n_initial": 8}}
