"""search_mapping: best mapping, Pareto set, seeding, warm start, exhaustive optimum; the search-mapping CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tvm_codesign.cli import main
from tvm_codesign.cost.model import evaluate
from tvm_codesign.errors import CodesignError
from tvm_codesign.model.presets import preset
from tvm_codesign.bilevel.mapping_search import search_mapping, search_seed, spread_pareto
from tvm_codesign.spaces.mapping import MappingObjective, MappingSpace
from tvm_codesign.model.workload import Workload

DQN1 = Workload("dqn_conv1", "conv2d", K=32, C=4, P=20, Q=20, R=8, S=8, stride=(4, 4))
R50 = Workload("r50_conv3x3", "conv2d", K=64, C=64, P=56, Q=56, R=3, S=3, padding=(1, 1, 1, 1))
SMALL = Workload("small_fc", "dense", K=4, C=2)
EYERISS, VTA = preset("eyeriss"), preset("vta")


def _non_dominated(points: list[tuple[float, float]]) -> bool:
    for i, (e, c) in enumerate(points):
        for j, (e2, c2) in enumerate(points):
            if i != j and e2 <= e and c2 <= c and (e2 < e or c2 < c):
                return False
    return True


@pytest.mark.parametrize("dataflow", [None, "row_stationary"])
def test_random_search_returns_a_valid_mapping_and_a_pareto_set(dataflow):
    res = search_mapping(DQN1, EYERISS, strategy="random", budget=600, seed=3, dataflow=dataflow)
    assert res.feasible and res.evaluations == 600 and res.history
    cost = evaluate(DQN1, EYERISS, [res.mapping])
    assert cost.valid[0] and cost.edp[0] == pytest.approx(res.edp) == pytest.approx(res.cost.edp)
    pts = [(e, c) for _, e, c in res.pareto]
    assert 1 <= len(pts) <= 8 and _non_dominated(pts)
    assert min(e * c for e, c in pts) == pytest.approx(res.edp)
    for m, e, c in res.pareto:
        r = evaluate(DQN1, EYERISS, [m])
        assert r.valid[0] and r.energy_pj[0] == pytest.approx(e) and r.cycles[0] == pytest.approx(c)
    # The history's best is log EDP and never gets worse.
    best = [row["best"] for row in res.history]
    assert best == sorted(best, reverse=True) and best[-1] == pytest.approx(np.log(res.edp))


def test_seed_depends_on_seed_hardware_and_layer_not_on_call_order():
    assert search_seed(0, DQN1, EYERISS) == search_seed(0, DQN1, preset("eyeriss"))
    assert len({search_seed(0, DQN1, EYERISS), search_seed(1, DQN1, EYERISS), search_seed(0, R50, EYERISS),
                search_seed(0, DQN1, VTA)}) == 4
    a1 = search_mapping(DQN1, EYERISS, budget=300, seed=5)
    search_mapping(R50, EYERISS, budget=300, seed=5)
    a2 = search_mapping(DQN1, EYERISS, budget=300, seed=5)
    assert a1.mapping == a2.mapping and a1.edp == a2.edp and (a1.genome == a2.genome).all()


def test_free_search_warm_started_with_row_stationary_is_never_worse():
    rs = search_mapping(R50, EYERISS, strategy="random", budget=800, seed=0, dataflow="row_stationary")
    free = search_mapping(R50, EYERISS, strategy="random", budget=800, seed=0, initial=rs.mapping)
    assert free.edp <= rs.edp
    # The row-stationary genome itself also embeds directly.
    free2 = search_mapping(R50, EYERISS, strategy="random", budget=800, seed=0, initial=rs.genome[None, :])
    assert free2.edp <= rs.edp


def test_schedulable_only_search_returns_a_schedulable_mapping():
    from tvm_codesign.model.schedulability import unschedulable_reason

    res = search_mapping(R50, EYERISS, budget=400, seed=1, schedulable_only=True)
    assert res.feasible and unschedulable_reason(R50, res.mapping) is None
    assert all(unschedulable_reason(R50, m) is None for m, _, _ in res.pareto)


@pytest.mark.parametrize("groups", [1, 4])
def test_searched_schedulable_mappings_build_in_tvm_and_compute_the_layer(groups):
    """The point of schedulable_only: the searched mapping becomes an s_tir.Schedule that builds on llvm and
    computes what the unscheduled layer computes."""
    tvm = pytest.importorskip("tvm")
    from tvm_codesign.compiler.extract import extract_workloads, lower_to_tir
    from tvm_codesign.compiler.frontend import load_model
    from tvm_codesign.compiler.schedule import apply_mapping

    from .onnx_util import conv_model

    lowered = lower_to_tir(load_model(conv_model(8, 8, 6, 3, pad=1, groups=groups)))
    (w,) = extract_workloads(lowered, lowered=True).workloads
    func_name, block = w.sources[0]
    func = lowered[func_name]
    res = search_mapping(w, EYERISS, budget=300, seed=2, schedulable_only=True)
    sch, _ = apply_mapping(func, w, res.mapping, block)
    rng = np.random.default_rng(0)
    args = [rng.standard_normal([int(d) for d in p.ty.shape]).astype("float32") for p in func.params[:-1]]
    out_shape = [int(d) for d in func.params[-1].ty.shape]
    outs = []
    for mod in (tvm.IRModule({"main": func.with_attr("global_symbol", "main")}), sch.mod):
        lib = tvm.compile(mod, target="llvm")
        out = tvm.runtime.empty(out_shape, "float32")
        lib["main"](*[tvm.runtime.tensor(a) for a in args], out)
        outs.append(out.numpy())
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-4, atol=1e-4)


def test_exhaustive_finds_the_true_optimum_of_a_small_space():
    space = MappingSpace(SMALL, VTA, dataflow="vta_gemm", double_buffering=True)
    assert space.size() <= 2_000_000
    obj = MappingObjective(SMALL, VTA, space=space)
    best = min(float(obj(chunk).value.min()) for chunk in space.enumerate(limit=2_000_000))
    res = search_mapping(SMALL, VTA, strategy="exhaustive", budget=space.size(), seed=0, dataflow="vta_gemm",
                         double_buffering=True)
    assert np.log(res.edp) == pytest.approx(best)


def test_spread_pareto_keeps_extremes_and_best():
    e = np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    c = 11 - e
    c[4] = 5.5 - 1.0  # best EDP at index 4
    front = np.argsort(e * c, kind="stable")
    keep = spread_pareto(e, c, front, 4)
    assert len(keep) == 4 and keep[0] == front[0] and {0, 9} <= set(keep.tolist())


def test_to_json_has_the_documented_keys():
    res = search_mapping(DQN1, EYERISS, budget=200, seed=0, dataflow="row_stationary")
    out = json.loads(json.dumps(res.to_json()))
    for key in ("mapping", "edp", "energy_pj", "cycles", "evaluations", "pareto", "history"):
        assert key in out
    assert out["mapping"]["loops"] and out["dataflow"] == "row_stationary" and out["evaluations"] == 200


def test_bad_arguments_raise_but_an_impossible_dataflow_is_an_infeasible_layer():
    with pytest.raises(CodesignError, match="budget"):
        search_mapping(DQN1, EYERISS, budget=0)
    with pytest.raises(CodesignError, match="unknown search strategy"):
        search_mapping(DQN1, EYERISS, strategy="annealing", budget=10)
    with pytest.raises(CodesignError, match="unknown dataflow"):
        search_mapping(DQN1, EYERISS, dataflow="output_stationary", budget=10)
    # S = 13 cannot go on 12 PE rows: the co-design learns this hardware is infeasible for the layer.
    res = search_mapping(Workload("s13", "conv2d", K=4, S=13), EYERISS, dataflow="row_stationary", budget=10)
    assert not res.feasible and res.evaluations == 0 and "all of S=13" in res.reason
    assert json.loads(json.dumps(res.to_json()))["mapping"] is None


# ---------------------------------------------------------------------------------------------------------------
# CLI

WL_JSON = json.dumps(DQN1.to_json())


def test_cli_json_output(capsys):
    rc = main(["search-mapping", "--workload", WL_JSON, "--hw", "eyeriss", "--dataflow", "row_stationary",
               "--strategy", "random", "--budget", "200", "--seed", "1", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert {"mapping", "edp", "energy_pj", "cycles", "evaluations", "pareto", "history"} <= set(out)
    assert out["evaluations"] == 200 and out["edp"] == pytest.approx(out["energy_pj"] * out["cycles"])
    from tvm_codesign.model.mapping import Mapping

    assert evaluate(DQN1, EYERISS, [Mapping.from_json(out["mapping"])]).valid[0]


def test_cli_text_output_and_workload_file(tmp_path, capsys):
    path = tmp_path / "w.json"
    path.write_text(WL_JSON)
    assert main(["search-mapping", "--workload", str(path), "--hw", "vta", "--budget", "100"]) == 0
    text = capsys.readouterr().out
    assert "search-mapping dqn_conv1" in text and "best: energy" in text and "MAC" in text


@pytest.mark.parametrize(
    "argv, msg",
    [
        (["--workload", "{not json", "--hw", "eyeriss"], "not valid JSON"),
        (["--workload", WL_JSON, "--hw", "tpu"], "neither a preset"),
        (["--workload", WL_JSON, "--hw", "eyeriss", "--budget", "0"], "--budget must be"),
        (["--workload", WL_JSON, "--hw", "eyeriss", "--strategy", "nope"], "unknown search strategy"),
        (["--workload", '{"op": "conv2d", "S": 13}', "--hw", "eyeriss", "--dataflow", "row_stationary"], "all of S"),
    ],
)
def test_cli_errors_are_one_line(argv, msg, capsys):
    assert main(["search-mapping", *argv]) == 2
    err = capsys.readouterr().err
    assert msg in err and err.count("\n") == 1 and err.startswith("tvm-codesign: error:")


def _exit_code(argv):
    """``main``'s exit code, whether it returns it or argparse exits with it."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return exit_.code


def test_cli_budget_in_seconds_only(capsys):
    import time

    start = time.perf_counter()
    rc = main(["search-mapping", "--workload", WL_JSON, "--hw", "eyeriss", "--seconds", "0.5", "--json"])
    wall = time.perf_counter() - start
    assert rc == 0 and wall < 30
    out = json.loads(capsys.readouterr().out)
    assert out["evaluations"] > 0 and out["valid"] and out["seconds"] < 30


def test_cli_seconds_and_budget_stop_at_whichever_ends_first(capsys):
    assert main(["search-mapping", "--workload", WL_JSON, "--hw", "eyeriss", "--seconds", "60", "--budget", "50",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["evaluations"] == 50
    # The text summary still shows evaluations and seconds; --time-limit is the hidden old name of --seconds.
    assert main(["search-mapping", "--workload", WL_JSON, "--hw", "eyeriss", "--time-limit", "60", "--budget", "40"]) == 0
    assert " 40 evaluations in " in capsys.readouterr().out


def test_cli_seconds_is_documented_and_time_limit_is_hidden():
    from tvm_codesign.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    text = sub.choices["search-mapping"].format_help()
    assert "--seconds S" in text and "--time-limit" not in text
    defaults = sub.choices["search-mapping"].parse_args(["--workload", WL_JSON, "--hw", "eyeriss"])
    assert defaults.budget is None and defaults.seconds is None  # run() then uses the default in evaluations


@pytest.mark.parametrize("value", ["0", "-1", "abc", "nan", "inf"])
def test_cli_bad_seconds_are_one_line_errors(value, capsys):
    assert _exit_code(["search-mapping", "--workload", WL_JSON, "--hw", "eyeriss", "--seconds", value]) == 2
    captured = capsys.readouterr()
    assert not captured.out and captured.err.count("\n") == 1
    assert captured.err.startswith("tvm-codesign: error:") and "--seconds" in captured.err
    assert "positive number of seconds" in captured.err and "Traceback" not in captured.err
