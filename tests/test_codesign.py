"""The bilevel co-design driver: determinism across executors, failed trials, trial log and resume."""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tvm_codesign.bilevel.executors import local_executor
from tvm_codesign.bilevel.outer import InnerSettings, Limits, evaluate_hardware, run_codesign
from tvm_codesign.model.presets import preset
from tvm_codesign.search import make_strategy
from tvm_codesign.model.workload import Workload

from .toy_hardware import ToyHardwareSpace

ROOT = Path(__file__).resolve().parents[1]
LAYERS = [
    Workload("conv", "conv2d", K=16, C=8, P=8, Q=8, R=3, S=3),
    Workload("fc", "dense", C=256, K=64, count=2),
]
SETTINGS = InnerSettings(strategy="random", budget=300, seed=0)


def _run(executor, log, budget=4, seed=0, space=None, limits=Limits()):
    space = space or ToyHardwareSpace()
    strategy = make_strategy("random", space, seed=seed)
    return run_codesign(space, LAYERS, strategy, budget, SETTINGS, executor, log, limits=limits)


def _summary(result):
    return [(t["genome"], t["value"], t["feasible"], t["failed"]) for t in result.trials]


def test_one_seed_one_result_with_1_and_2_workers_and_threads(tmp_path):
    with local_executor(1) as one:
        a = _run(one, tmp_path / "a.jsonl")
    with local_executor(2) as two:
        b = _run(two, tmp_path / "b.jsonl")
    with cf.ThreadPoolExecutor(3) as threads:
        c = _run(threads, tmp_path / "c.jsonl")
    assert _summary(a) == _summary(b) == _summary(c)
    assert a.best is not None and a.best["value"] == min(t["value"] for t in a.trials if t["feasible"])
    for t in a.trials:  # the known constraint holds for every evaluated point
        assert t["area_mm2"] <= ToyHardwareSpace().budget


def test_dask_local_cluster_gives_the_same_result(tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            d = _run(client.get_executor(), tmp_path / "d.jsonl")
    with cf.ThreadPoolExecutor(2) as threads:
        t = _run(threads, tmp_path / "t.jsonl")
    assert _summary(d) == _summary(t)


class _Boom(cf.ThreadPoolExecutor):
    """An executor whose workers raise for one hardware config (a crashed worker)."""

    def submit(self, fn, task):  # noqa: D102
        if json.dumps(task[1]).count('"pe_rows": 4') and json.dumps(task[1]).count('"pe_cols": 4'):
            def boom(_):
                raise RuntimeError("worker died")
            return super().submit(boom, task)
        return super().submit(fn, task)


def test_a_worker_that_raises_is_a_failed_trial_and_the_run_goes_on(tmp_path):
    space = ToyHardwareSpace()
    with _Boom(2) as ex:
        res = run_codesign(
            space, LAYERS, make_strategy("random", space, seed=1), 8, SETTINGS, ex, tmp_path / "log.jsonl",
            initial=np.array([[1, 1, 0]]),  # 4x4 PEs: raises
        )
    first = res.trials[0]
    assert first["failed"] and not first["feasible"] and "worker died" in first["error"]
    assert len(res.trials) == 8 and any(t["feasible"] for t in res.trials[1:])


def test_latency_limit_makes_candidates_infeasible_with_a_reason():
    hw = preset("eyeriss")
    with cf.ThreadPoolExecutor(2) as ex:
        free = evaluate_hardware(hw, LAYERS, SETTINGS, ex)
        capped = evaluate_hardware(hw, LAYERS, SETTINGS, ex, Limits(max_latency_cycles=free.cycles / 2))
        powered = evaluate_hardware(hw, LAYERS, SETTINGS, ex, Limits(max_power_mw=free.power_mw() / 2))
    assert free.feasible and not capped.feasible and capped.reason.startswith("latency")
    assert not powered.feasible and powered.reason.startswith("power")
    # power = energy / time at the run's clock
    assert free.power_mw() == pytest.approx(free.energy_pj / free.cycles * hw.system.clock_mhz * 1e-3)


RUNNER = """
import sys, numpy as np, concurrent.futures as cf
sys.path.insert(0, {root!r})
from tests.test_codesign import LAYERS, SETTINGS
from tests.toy_hardware import ToyHardwareSpace
from tvm_codesign.bilevel.outer import run_codesign
from tvm_codesign.search import make_strategy
space = ToyHardwareSpace()
with cf.ThreadPoolExecutor(1) as ex:
    res = run_codesign(space, LAYERS, make_strategy("random", space, seed=3), {budget}, SETTINGS, ex, sys.argv[1],
                       header={{"seed": 3}})
print("EVALUATED", res.evaluated_now)
"""


def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path):
    budget = 6
    script = RUNNER.format(root=str(ROOT), budget=budget)
    full = tmp_path / "full.jsonl"
    out = subprocess.run([sys.executable, "-c", script, str(full)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr

    killed = tmp_path / "killed.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", script, str(killed)], stdout=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while time.time() < deadline:  # kill it once three trials are on disk
        if killed.exists() and len(killed.read_text().splitlines()) >= 1 + 3:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    logged = len([l for l in killed.read_text().splitlines() if '"key"' in l])
    assert 3 <= logged < budget

    resumed = subprocess.run([sys.executable, "-c", script, str(killed)], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"EVALUATED {budget - logged}" in resumed.stdout  # nothing logged as finished was evaluated again

    def trials(path):
        rows = [json.loads(l) for l in path.read_text().splitlines() if '"key"' in l]
        return {r["key"]: (r["value"], r["feasible"]) for r in rows}

    assert trials(killed) == trials(full)


def test_points_breaking_the_known_constraint_are_never_searched(tmp_path):
    space = ToyHardwareSpace(area_budget_mm2=0.6)
    over = next(g for g in np.array(np.meshgrid(range(4), range(4), range(4))).reshape(3, -1).T if not space.valid(g[None])[0])
    with cf.ThreadPoolExecutor(2) as ex:
        res = run_codesign(space, LAYERS, make_strategy("random", space, seed=0), 3, SETTINGS, ex,
                           tmp_path / "log.jsonl", initial=over[None, :])
    first = res.trials[0]
    assert first["known_constraint"] and not first["feasible"] and not first["failed"] and "layers" not in first
    assert all(t["area_mm2"] <= 0.6 for t in res.trials[1:])


def test_a_budget_in_evaluations_gives_identical_results_for_equal_seeds(tmp_path):
    settings = InnerSettings(strategy="random", budget=300, seed=0, seconds=None)
    space = ToyHardwareSpace()
    runs = []
    for name in ("a", "b"):
        with cf.ThreadPoolExecutor(2) as ex:
            runs.append(run_codesign(space, LAYERS, make_strategy("random", space, seed=4), 3, settings, ex,
                                     tmp_path / f"{name}.jsonl"))
    a, b = runs
    assert a.best is not None and b.best is not None
    assert a.best["edp"] == b.best["edp"]  # exactly: same seed, same budget in evaluations
    assert [t["edp"] for t in a.trials] == [t["edp"] for t in b.trials]
    assert [[l["chosen"] for l in t["layers"]] for t in a.trials] == [[l["chosen"] for l in t["layers"]] for t in b.trials]


def test_an_inner_budget_in_seconds_only_runs_and_is_recorded():
    settings = InnerSettings(strategy="random", budget=None, seed=0, seconds=0.2)
    assert settings.to_json()["seconds"] == 0.2 and settings.to_json()["budget"] is None
    assert settings.describe() == "0.2 s"
    assert InnerSettings(budget=300, seconds=2).describe() == "300 evaluations or 2 s"
    with cf.ThreadPoolExecutor(2) as ex:
        ev = evaluate_hardware(preset("eyeriss"), LAYERS, settings, ex)
    assert ev.feasible
    for layer in ev.layers:  # no evaluation cap: each search ran for its seconds, with a whole batch at least
        assert layer["search"]["evaluations"] > 0 and layer["search"]["seconds"] >= 0.2


@pytest.mark.parametrize(
    "kwargs, fragment",
    [({"seconds": 0}, "positive number of seconds"), ({"seconds": -1.0}, "positive number of seconds"),
     ({"seconds": float("nan")}, "positive number of seconds"), ({"seconds": "2"}, "positive number of seconds"),
     ({"budget": None}, "evaluations, seconds, or both"), ({"budget": 0}, "positive number of evaluations")],
)
def test_bad_inner_settings_are_one_line_errors(kwargs, fragment):
    from tvm_codesign.errors import CodesignError

    with pytest.raises(CodesignError, match=fragment) as err:
        InnerSettings(**kwargs)
    assert "\n" not in str(err.value)


def test_trial_log_refuses_another_inner_budget_and_names_it(tmp_path):
    from tvm_codesign.bilevel.trial_log import TrialLog
    from tvm_codesign.errors import CodesignError

    path = tmp_path / "log.jsonl"
    header = {"seed": 0, "inner": InnerSettings(budget=300, seconds=2.0).to_json()}
    TrialLog(path, header)
    assert TrialLog(path, json.loads(json.dumps(header))).header == header  # the same settings resume
    for other, changed in ((InnerSettings(budget=300, seconds=3.0), "inner.seconds"),
                           (InnerSettings(budget=300), "inner.seconds"),
                           (InnerSettings(budget=400, seconds=2.0), "inner.budget")):
        with pytest.raises(CodesignError, match=rf"--resume with other settings than the logged run \({changed}\)"):
            TrialLog(path, {"seed": 0, "inner": other.to_json()})


def test_trial_log_written_before_inner_seconds_existed_still_resumes(tmp_path):
    from tvm_codesign.bilevel.trial_log import TrialLog

    path = tmp_path / "old.jsonl"
    old = {key: value for key, value in SETTINGS.to_json().items() if key != "seconds"}
    path.write_text(json.dumps({"header": {"seed": 0, "inner": old}}) + "\n")
    TrialLog(path, {"seed": 0, "inner": SETTINGS.to_json()})  # seconds None = the old evaluations-only budget
