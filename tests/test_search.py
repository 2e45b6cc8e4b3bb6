"""Search strategies on toy spaces: the ask/tell contract, determinism, optimum finding, the feasibility model, the
constrained acquisition, Pareto fronts and the factory's errors."""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest

from tests.toy_spaces import ChunkedGridSpace, GridSpace, NoExtrasSpace, ToyObjective
from tvm_codesign.errors import CodesignError
from tvm_codesign.search import REGISTRY, make_strategy, strategy_class, strategy_options
from tvm_codesign.search.acquisition import expected_improvement, score
from tvm_codesign.pareto import pareto_front
from tvm_codesign.search.base import Outcome, Strategy, run_search, unique_rows
from tvm_codesign.search.bo import BayesianOptimization
from tvm_codesign.search.feasibility import FeasibilityModel
from tvm_codesign.search.surrogate import GPSurrogate, cap_training_set

# Small options so the whole file stays fast; the defaults are exercised by the benchmarks.
FAST = {
    "random": {},
    "bo": {"n_initial": 6, "pool_size": 300, "local_per_point": 20, "refine_rounds": 1},
    "skopt": {"n_initial": 5, "n_points": 300},
    "xgb": {"n_initial": 6, "n_chains": 32, "n_steps": 10, "n_estimators": 30},
    "exhaustive": {},
    "evolve": {"n_initial": 6, "elite": 4},
}


def small_problem(**kw) -> tuple[GridSpace, ToyObjective]:
    space = GridSpace(n=8, d=2, cap=11, **kw)
    return space, ToyObjective(space, disk_radius=1.5, fail_every=5)


class Recorder:
    """Objective wrapper asserting the contract on every batch a strategy proposes."""

    def __init__(self, strategy: Strategy, objective: ToyObjective, known_valid: bool) -> None:
        self.strategy, self.objective, self.known_valid = strategy, objective, known_valid
        self.batches: list[np.ndarray] = []

    def __call__(self, genomes: np.ndarray) -> Outcome:
        assert genomes.dtype == np.int64 and genomes.shape[1] == self.strategy.space.genome_size
        assert len(unique_rows(genomes)) == len(genomes), "duplicate genomes in one batch"
        assert not self.strategy.is_told(genomes).any(), "re-proposed a told genome"
        if self.known_valid:
            assert self.objective.space.valid(genomes).all(), "broke a known constraint"
        self.batches.append(genomes.copy())
        return self.objective(genomes)


@pytest.mark.parametrize("name", sorted(REGISTRY))
@pytest.mark.parametrize("batch", [1, 3])
def test_contract_budget_no_repeats_deterministic(name: str, batch: int) -> None:
    space, objective = small_problem()
    budget = 17
    runs = []
    for _ in range(2):
        strategy = make_strategy(name, space, seed=3, **FAST[name])
        # skopt knows only the bounds, so it may break the known constraint (then the point is infeasible).
        rec = Recorder(strategy, objective, known_valid=name != "skopt")
        result = run_search(strategy, rec, budget=budget, batch_size=batch)
        assert result.evaluations == budget == len(result.X)
        assert all(len(b) <= batch for b in rec.batches)
        assert len(unique_rows(result.X)) == budget
        assert result.history[-1]["evaluations"] == budget
        runs.append(result)
    np.testing.assert_array_equal(runs[0].X, runs[1].X)
    assert runs[0].best_value == runs[1].best_value


@pytest.mark.parametrize("name", ["random", "bo", "xgb", "evolve"])
def test_short_samples_and_exhaustion(name: str) -> None:
    # The sampler returns at most 2 points per call and the space has 15 points: strategies must cope with
    # short samples, never repeat, and run_search must stop when nothing new can be proposed.
    space = GridSpace(n=5, d=2, cap=4, max_per_sample=2)
    objective = ToyObjective(space)
    strategy = make_strategy(name, space, seed=0, **FAST[name])
    result = run_search(strategy, Recorder(strategy, objective, True), budget=40, batch_size=4)
    assert len(unique_rows(result.X)) == len(result.X) <= len(space.enumerate(100))
    assert result.evaluations >= 8


def test_exhaustive_finds_true_optimum() -> None:
    space, objective = small_problem()
    best_genome, best_value = objective.optimum()
    result = run_search(make_strategy("exhaustive", space), objective, budget=10**6, batch_size=64)
    assert result.evaluations == len(space.enumerate(10**6))
    assert result.best_value == best_value
    np.testing.assert_array_equal(result.best_genome, best_genome)


def test_exhaustive_streams_chunks_and_skips_known_invalid() -> None:
    space = ChunkedGridSpace(n=8, d=2, cap=11)
    objective = ToyObjective(space, disk_radius=1.5, fail_every=5)
    _, best_value = objective.optimum()
    strategy = make_strategy("exhaustive", space)
    rec = Recorder(strategy, objective, known_valid=True)
    result = run_search(strategy, rec, budget=10**6, batch_size=5)
    assert result.evaluations == len(GridSpace(n=8, d=2, cap=11).enumerate(10**6))  # only the valid ones
    assert result.best_value == best_value
    with pytest.raises(CodesignError, match="above"):
        make_strategy("exhaustive", space, limit=63)


def test_exhaustive_refuses_unenumerable_or_too_large() -> None:
    space, _ = small_problem()
    with pytest.raises(CodesignError, match="enumerate"):
        make_strategy("exhaustive", NoExtrasSpace(space))
    with pytest.raises(CodesignError, match="limit"):
        make_strategy("exhaustive", space, limit=10)


def test_exhaustive_skips_warm_start() -> None:
    space, objective = small_problem()
    initial = space.enumerate(100)[[5, 2]]
    result = run_search(make_strategy("exhaustive", space), objective, budget=10**6, batch_size=16, initial=initial)
    assert len(unique_rows(result.X)) == len(result.X) == len(space.enumerate(10**6))
    np.testing.assert_array_equal(result.X[:2], initial)


def test_bo_beats_random_at_equal_budget() -> None:
    space = GridSpace(n=16, d=4, cap=40)
    objective = ToyObjective(space, disk_radius=3.0, fail_every=7)
    _, opt = objective.optimum()
    gaps = {"bo": [], "random": []}
    for seed in range(5):
        for name in gaps:
            opts = {"n_initial": 8, "pool_size": 1000} if name == "bo" else {}
            result = run_search(make_strategy(name, space, seed=seed, **opts), objective, budget=40, batch_size=4)
            gaps[name].append(result.best_value - opt)
    # Measured: bo median gap ~0.16 (often exactly 0), random ~2.2 (log units).
    assert np.median(gaps["bo"]) < 0.5 * np.median(gaps["random"])
    assert np.median(gaps["bo"]) < 0.8


def test_feasibility_model_ignores_failed_points() -> None:
    X = np.array([[0.0, 0.0], [0.1, 0.0], [1.0, 1.0], [0.9, 1.0], [0.5, 0.5]])
    feasible = np.array([True, True, False, False, False])
    failed = np.array([False, False, False, False, True])
    model = FeasibilityModel("rf", seed=0).fit(X, feasible, failed)
    assert len(model.train_X) == 4 and not (model.train_X == [0.5, 0.5]).all(axis=1).any()
    # Only failed points besides feasible ones: a single class, so P(feasible) = 1 everywhere.
    single = FeasibilityModel("gp").fit(X, np.array([True, True, False, False, False]),
                                        np.array([False, False, True, True, True]))
    assert not single.active and (single.predict(X) == 1).all()
    assert (FeasibilityModel("gp").predict(X) == 1).all()  # unfitted


def test_outcome_failed_is_not_infeasible() -> None:
    out = Outcome(value=np.array([1.0, 2.0, 3.0]), feasible=np.array([True, False, True]),
                  failed=np.array([False, False, True]))
    np.testing.assert_array_equal(out.value, [1.0, np.inf, np.inf])
    assert out.feasible[2]  # a crash keeps whatever the objective said about feasibility


def test_bo_trains_classifier_on_non_failed_only() -> None:
    space, objective = small_problem()
    strategy = BayesianOptimization(space, seed=0, **FAST["bo"])
    run_search(strategy, objective, budget=25, batch_size=5)
    assert strategy.failed.any() and (~strategy.feasible).any()
    strategy.ask(1)  # models are fitted on ask, from everything told so far
    model = strategy.feasibility_model
    assert len(model.train_X) == int((~strategy.failed).sum())
    np.testing.assert_array_equal(model.train_y, strategy.feasible[~strategy.failed])
    assert model.active


@pytest.mark.parametrize("kind", ["gp", "rf", "logistic"])
def test_ei_times_pof_prefers_feasible_region(kind: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.random((80, 2))
    feasible = X[:, 0] < 0.5  # unknown constraint: the right half is infeasible
    model = FeasibilityModel(kind, seed=0).fit(X, feasible)
    left, right = np.array([[0.2, 0.5]]), np.array([[0.8, 0.5]])
    pof = model.predict(np.concatenate([left, right]))
    assert pof[0] > 0.7 and pof[1] < 0.3
    mu, sigma = np.array([1.0, 1.0]), np.array([0.5, 0.5])  # the GP cannot tell them apart
    s = score("ei", mu, sigma, best=1.2, pof=pof)
    assert s[0] > 2 * s[1]
    s_lcb = score("lcb", mu, sigma, best=1.2, pof=pof)
    assert s_lcb[0] > s_lcb[1]


def test_expected_improvement_basics() -> None:
    ei = expected_improvement(np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 1.0]), best=1.0)
    assert ei[0] > ei[1] > ei[2] > 0
    assert expected_improvement(np.array([0.0]), np.array([0.0]), best=1.0)[0] == pytest.approx(1.0)


@pytest.mark.parametrize("kernel", ["matern", "rbf"])
def test_gp_surrogate_interpolates(kernel: str) -> None:
    rng = np.random.default_rng(1)
    X = rng.random((40, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2
    gp = GPSurrogate(kernel, seed=0).fit(X, y)
    mu, sigma = gp.predict(X)
    assert np.abs(mu - y).max() < 0.1 and (sigma < 0.2).all()
    far_mu, far_sigma = gp.predict(np.array([[5.0, 5.0]]))
    assert far_sigma[0] > sigma.max()
    cond = gp.condition(np.array([[0.5, 0.5]]), np.array([0.3]))
    assert cond.predict(np.array([[0.5, 0.5]]))[1][0] < gp.predict(np.array([[0.5, 0.5]]))[1][0] + 1e-9


def test_cap_training_set_keeps_best_and_recent() -> None:
    y = np.array([5.0, 0.0, 4.0, 3.0, 1.0, 6.0, 7.0, 8.0])
    keep = cap_training_set(y, 4)
    assert {1, 4} <= set(keep) and {6, 7} <= set(keep) and len(keep) == 4


@pytest.mark.parametrize("opts", [{"acquisition": "lcb"}, {"kernel": "rbf"}, {"use_feasibility": False},
                                  {"feasibility": "rf"}, {"batch": "topk"}])
def test_bo_options_run(opts: dict) -> None:
    space, objective = small_problem()
    result = run_search(make_strategy("bo", space, seed=1, **{**FAST["bo"], **opts}), objective, 14, 4)
    assert result.evaluations == 14 and np.isfinite(result.best_value)


def test_skopt_penalises_and_infers_bounds_without_bounds_method() -> None:
    space, objective = small_problem()
    strategy = make_strategy("skopt", NoExtrasSpace(space), seed=0, **FAST["skopt"])
    run_search(strategy, objective, budget=12, batch_size=4)
    told = np.asarray(strategy.opt.yi)
    assert np.isfinite(told).all() and len(told) == 12
    bad = ~np.isfinite(strategy.y)
    if bad.any():  # penalised above every finite value seen when told
        assert told[bad].min() > np.nanmin(told[~bad])


def test_warm_start_counts_and_is_recorded() -> None:
    space, objective = small_problem()
    initial = space.enumerate(100)[:3]
    result = run_search(make_strategy("bo", space, seed=0, **FAST["bo"]), objective, budget=9, batch_size=2,
                        initial=initial)
    np.testing.assert_array_equal(result.X[:3], initial)
    assert result.evaluations == 9 and result.history[0]["evaluations"] == 2


def brute_front(points: np.ndarray) -> set[tuple]:
    out = set()
    for i, p in enumerate(points):
        if not any(np.all(q <= p) and np.any(q < p) for q in points):
            out.add(tuple(p))
    return out


@pytest.mark.parametrize("k", [2, 3])
def test_pareto_front_matches_brute_force(k: int) -> None:
    rng = np.random.default_rng(k)
    for _ in range(30):
        pts = rng.integers(0, 6, size=(rng.integers(1, 25), k)).astype(float)  # many ties and duplicates
        idx = pareto_front(pts)
        got = [tuple(p) for p in pts[idx]]
        assert len(got) == len(set(got)), "duplicates kept more than once"
        assert set(got) == brute_front(pts)
    assert len(pareto_front(np.zeros((0, 2)))) == 0


def test_make_strategy_errors() -> None:
    space, _ = small_problem()
    with pytest.raises(CodesignError, match="unknown search strategy 'nope'; choose one of") as err:
        make_strategy("nope", space)
    assert "\n" not in str(err.value)
    with pytest.raises(CodesignError, match="unknown option"):
        make_strategy("bo", space, kernal="rbf")
    with pytest.raises(CodesignError, match="unknown kernel"):
        make_strategy("bo", space, kernel="linear")
    with pytest.raises(CodesignError, match="unknown acquisition"):
        make_strategy("bo", space, acquisition="pi")
    assert set(REGISTRY) == {"random", "bo", "skopt", "xgb", "exhaustive", "evolve"}
    assert strategy_options("bo")["kernel"] == "matern"
    for name in REGISTRY:
        assert strategy_class(name).name == name


def test_grid_space_is_a_search_space() -> None:
    from tvm_codesign.search.base import SearchSpace, SupportsBounds, SupportsEnumerate

    space, _ = small_problem()
    assert isinstance(space, SearchSpace) and isinstance(space, SupportsBounds)
    assert isinstance(space, SupportsEnumerate) and not isinstance(NoExtrasSpace(space), SupportsEnumerate)
    grid = space.enumerate(1000)
    assert len(grid) == len({tuple(g) for g in itertools.product(range(8), repeat=2) if sum(g) <= 11})


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("TVM_CODESIGN_SEARCH_SLOW"),
                    reason="~90 s; opt in with TVM_CODESIGN_SEARCH_SLOW=1 (keeps this file under a minute)")
def test_bo_within_5_percent_of_exhaustive_on_a_real_layer() -> None:
    # The issue's acceptance check: an FC layer on Eyeriss, row-stationary, single-buffered: ~4.7e6 genomes of which
    # ~2.9e6 valid (≥ 1e5), still enumerable. Exhaustive gives the true optimum (~40 s); bo with 100 evaluations
    # must reach it within 5 % of EDP in median over 5 seeds (measured: 0.22 %; random@100: 3.2 %).
    mapping_space = pytest.importorskip("tvm_codesign.spaces.mapping")
    from tvm_codesign.model.presets import preset
    from tvm_codesign.model.workload import Workload

    wl = Workload("fc64", "conv2d", K=64, C=64, P=1, Q=1, R=1, S=1)
    hw = preset("eyeriss")
    space = mapping_space.MappingSpace(wl, hw, dataflow="row_stationary", double_buffering=False)
    objective = mapping_space.MappingObjective(wl, hw, space=space)
    exact = run_search(make_strategy("exhaustive", space), objective, budget=10**9, batch_size=1 << 16)
    assert exact.evaluations >= 100_000
    gaps = []
    for seed in range(5):
        res = run_search(make_strategy("bo", space, seed=seed), objective, budget=100, batch_size=4)
        assert res.best_value >= exact.best_value - 1e-9  # nothing beats the exhaustive optimum
        gaps.append(np.exp(res.best_value - exact.best_value) - 1)  # values are log EDP
    assert np.median(gaps) <= 0.05


def test_objectives_stay_aligned_and_pareto_indices() -> None:
    space, objective = small_problem()
    strategy = make_strategy("random", space, seed=0)
    g1 = strategy.ask(3)
    strategy.tell(g1, Outcome(np.zeros(3), np.ones(3, bool)))  # no objectives in this batch
    g2 = strategy.ask(4)
    strategy.tell(g2, objective(g2))
    assert strategy.objectives.shape == (7, 2) and np.isnan(strategy.objectives[:3]).all()
    result = run_search(make_strategy("random", space, seed=0), objective, budget=30, batch_size=5)
    front = result.pareto_indices()
    ok = np.flatnonzero(np.isfinite(result.y))
    assert set(map(tuple, result.objectives[front])) == brute_front(result.objectives[ok])
    assert np.all(np.diff(result.y[front]) >= 0)  # best value first


def test_skopt_uses_its_gp_with_the_requested_restarts() -> None:
    from skopt.learning import GaussianProcessRegressor

    space, objective = small_problem()
    for restarts in (0, 2):
        strategy = make_strategy("skopt", space, seed=0, gp_restarts=restarts, **FAST["skopt"])
        assert isinstance(strategy.opt.base_estimator_, GaussianProcessRegressor)
        assert strategy.opt.base_estimator_.n_restarts_optimizer == restarts
    rf = make_strategy("skopt", space, seed=0, base_estimator="RF", **FAST["skopt"])
    assert not isinstance(rf.opt.base_estimator_, GaussianProcessRegressor)
    result = run_search(make_strategy("skopt", space, seed=0, **FAST["skopt"]), objective, budget=12, batch_size=3)
    assert result.evaluations == 12


def test_best_index_ignores_minus_infinity_and_a_refused_tell_marks_nothing() -> None:
    space, _ = small_problem()
    strategy = make_strategy("random", space, seed=0)
    G = space.sample(3, strategy.rng)
    strategy.tell(G[:2], Outcome(value=np.array([1.0, -np.inf]), feasible=np.array([True, True]),
                                 objectives=np.ones((2, 2))))
    assert strategy.best_index == 0
    with pytest.raises(ValueError, match="objectives"):
        strategy.tell(G[2:], Outcome(value=np.array([0.5]), feasible=np.array([True]), objectives=np.ones((1, 3))))
    assert not strategy.is_told(G[2:]).any() and strategy.n_told == 2


def test_evolve_refuses_bad_probabilities() -> None:
    space, _ = small_problem()
    for opts in ({"extra_move": 1.0}, {"explore": 1.5}, {"crossover": -0.1}, {"reset": 2}):
        with pytest.raises(CodesignError, match="evolve's"):
            make_strategy("evolve", space, **opts)
