"""`tvm-codesign codesign`: every output of a small run, the database applies, errors are one line and early."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest

import tvm
from tvm import relax

from tvm_codesign.zoo.catalog import input_shapes, zoo_path
from tvm_codesign.cli import main
from tvm_codesign.compiler.extract import lower_to_tir
from tvm_codesign.compiler.frontend import load_model
from tvm_codesign.cost.physical import area
from tvm_codesign.model.hardware import HardwareConfig
from tvm_codesign.spaces.hardware import area_budget_from
from tvm_codesign.model.hardware import SystemParams

SMALL = ["--budget-hw", "3", "--budget-sw", "300", "--jobs", "1", "--strategy", "random"]


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("codesign") / "mlp"
    assert main(["codesign", "mlp", "-o", str(out), *SMALL]) == 0
    return out


def test_outputs_are_all_there_and_consistent(mlp_run):
    out = mlp_run
    names = sorted(p.name for p in out.iterdir())
    assert {"hardware.json", "result.json", "report.md", "trials.jsonl", "database", "convergence.png", "edp_vs_area.png"} <= set(names)
    result = json.loads((out / "result.json").read_text())
    hw = HardwareConfig.load(out / "hardware.json")
    budget = area_budget_from("eyeriss", SystemParams())
    assert area(hw).total_mm2 <= budget + 1e-9
    assert set(result["baselines"]) == {"eyeriss", "eyeriss_rs", "vta"}
    for name, b in result["baselines"].items():
        if b["feasible"]:
            for key in ("edp", "energy_pj", "cycles", "area_mm2", "edp_without_dram"):
                assert key in b, (name, key)
    design = result["design"]
    assert design["edp"] == pytest.approx(design["energy_pj"] * design["cycles"])
    trials = [json.loads(l) for l in (out / "trials.jsonl").read_text().splitlines()[1:]]
    assert len(trials) == 3
    assert all(t["area_mm2"] <= budget + 1e-9 for t in trials)  # every evaluated point within the budget
    assert design["edp"] == pytest.approx(min(np.exp(t["value"]) for t in trials if t["feasible"]))


def test_emitted_database_applies_and_the_model_still_matches_onnxruntime(mlp_run):
    lowered = lower_to_tir(load_model("mlp"))
    target = tvm.target.Target("llvm")
    with target, tvm.transform.PassContext(opt_level=3):
        mod = relax.transform.MetaScheduleApplyDatabase(str(mlp_run / "database"))(lowered)
    assert any("global.codesign" in mod[gv].script() for gv in mod.get_global_vars() if gv.name_hint != "main")
    vm = relax.VirtualMachine(tvm.compile(mod, target=target), tvm.cpu())
    (name, shape), = input_shapes("mlp").items()
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    want = ort.InferenceSession(str(zoo_path("mlp"))).run(None, {name: x})[0]
    np.testing.assert_allclose(vm["main"](tvm.runtime.tensor(x)).numpy(), want, rtol=1e-4, atol=1e-5)


def test_resume_of_a_finished_run_evaluates_nothing(mlp_run, capsys):
    assert main(["codesign", "mlp", "-o", str(mlp_run), *SMALL, "--resume", "--no-baselines"]) == 0
    result = json.loads((mlp_run / "result.json").read_text())
    assert result["evaluated_now"] == 0 and result["evaluations"] == 3


@pytest.mark.parametrize(
    "extra,fragment",
    [
        (["--area-budget", "0.001"], "below the smallest"),
        (["--area-budget", "tpu"], "tpu"),
        (["--budget-hw", "0"], "at least 1"),
        (["--executor", "tcp://x"], "dask://"),
    ],
)
def test_bad_requests_fail_early_in_one_line_and_write_nothing(extra, fragment, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["codesign", "mlp", "-o", str(out), *SMALL, *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("tvm-codesign: error: ") and fragment in err[-1], err
    assert not out.exists()


def test_existing_run_without_resume_is_refused(mlp_run, capsys):
    assert main(["codesign", "mlp", "-o", str(mlp_run), *SMALL]) == 2
    assert "--resume" in capsys.readouterr().err


def _parse(*extra):
    from tvm_codesign.cli import build_parser
    from tvm_codesign.cli.codesign import options_from

    return options_from(build_parser().parse_args(["codesign", "mlp", "-o", "x", *extra]))


def test_inner_seconds_alone_is_a_budget_in_seconds_only_and_with_budget_sw_both_apply():
    from tvm_codesign.bilevel import defaults

    assert (_parse().budget_sw, _parse().inner_seconds) == (defaults.BUDGET_SW, None)
    assert (_parse("--inner-seconds", "2").budget_sw, _parse("--inner-seconds", "2").inner_seconds) == (None, 2.0)
    both = _parse("--inner-seconds", "2", "--budget-sw", "300")
    assert (both.budget_sw, both.inner_seconds) == (300, 2.0)
    assert (_parse("--budget-sw", "300").budget_sw, _parse("--budget-sw", "300").inner_seconds) == (300, None)


@pytest.mark.parametrize("value", ["0", "-1", "abc"])
def test_bad_inner_seconds_is_a_one_line_error_that_writes_nothing(value, tmp_path, capsys):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_:
        main(["codesign", "mlp", "-o", str(out), *SMALL, "--inner-seconds", value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tvm-codesign: error: argument --inner-seconds: must be a positive")
    assert not out.exists()


@pytest.mark.parametrize(
    "kwargs, fragment",
    [({"inner_seconds": -1.0}, "--inner-seconds must be a positive number of seconds"),
     ({"inner_seconds": float("inf")}, "--inner-seconds must be a positive number of seconds"),
     ({"budget_sw": None}, "--budget-sw"), ({"budget_sw": None, "inner_seconds": 0}, "--inner-seconds")],
)
def test_bad_inner_budget_in_the_python_api_fails_in_validate(kwargs, fragment, tmp_path):
    from tvm_codesign.errors import CodesignError
    from tvm_codesign.pipeline import CoDesignOptions, validate

    with pytest.raises(CodesignError, match=fragment) as err:
        validate(CoDesignOptions(**kwargs), tmp_path / "run")
    assert "\n" not in str(err.value) and not (tmp_path / "run").exists()


def test_inner_seconds_is_recorded_and_a_resume_with_another_is_refused(tmp_path, capsys):
    out = tmp_path / "timed"
    base = ["codesign", "mlp", "-o", str(out), "--budget-hw", "2", "--jobs", "1", "--strategy", "random",
            "--no-baselines"]
    assert main([*base, "--inner-seconds", "0.2"]) == 0
    header = json.loads((out / "trials.jsonl").read_text().splitlines()[0])["header"]
    assert header["inner"]["seconds"] == 0.2 and header["inner"]["budget"] is None
    result = json.loads((out / "result.json").read_text())
    assert result["settings"]["inner"]["seconds"] == 0.2 and result["settings"]["inner"]["budget"] is None
    assert "Inner budget: 0.2 s per layer" in (out / "report.md").read_text()
    capsys.readouterr()
    for extra, changed in ((["--inner-seconds", "0.3"], "inner.seconds"),
                           (["--inner-seconds", "0.2", "--budget-sw", "300"], "inner.budget"),
                           ([], "inner.budget, inner.seconds")):
        assert main([*base, "--resume", *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1] == (f"tvm-codesign: error: --resume with other settings than the logged run ({changed}); "
                           "use another -o"), err


def test_a_resume_with_another_budget_sw_is_refused_the_same_way(mlp_run, capsys):
    assert main(["codesign", "mlp", "-o", str(mlp_run), *SMALL[:2], "--budget-sw", "301", *SMALL[4:], "--resume",
                 "--no-baselines"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("tvm-codesign: error: --resume with other settings than the logged run (inner.budget)")
