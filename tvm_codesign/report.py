"""What a co-design run hands the user, written into its output folder.

``hardware.json`` (every knob and system parameter), ``vta_config.json`` (only when the knobs *and* every chosen
mapping fit VTA), ``result.json`` (the design, the baselines ``eyeriss``, ``eyeriss_rs`` and ``vta`` under the same
inner budget and system parameters, per-layer mappings), ``database/`` (meta_schedule JSON database of the chosen
mappings' schedules, made from the fused PrimFuncs), ``report.md`` and the plots ``convergence.png`` and
``edp_vs_area.png``. Each file is written to a temporary name and renamed, so none is ever half written.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, Sequence

from tvm_codesign.cost.model import evaluate
from tvm_codesign.errors import CodesignError
from tvm_codesign.files import atomic_output
from tvm_codesign.cost.physical import area
from tvm_codesign.model.hardware import HardwareConfig
from tvm_codesign.model.vta import to_vta_config
from tvm_codesign.model.mapping import Mapping
from tvm_codesign.pareto import pareto_front
from tvm_codesign.model.workload import Workload

@dataclasses.dataclass(frozen=True)
class ResultFolder:
    """A co-design's output folder: every file's name, written here once (pipeline, passes and CLI use it)."""

    root: Path

    HARDWARE = "hardware.json"
    VTA_CONFIG = "vta_config.json"
    RESULT = "result.json"
    TRIALS = "trials.jsonl"
    DATABASE = "database"
    REPORT = "report.md"
    CONVERGENCE_PLOT = "convergence.png"
    EDP_VS_AREA_PLOT = "edp_vs_area.png"

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def hardware(self) -> Path:
        return self.root / self.HARDWARE

    @property
    def vta_config(self) -> Path:
        return self.root / self.VTA_CONFIG

    @property
    def result(self) -> Path:
        return self.root / self.RESULT

    @property
    def trials(self) -> Path:
        return self.root / self.TRIALS

    @property
    def database(self) -> Path:
        return self.root / self.DATABASE

    @property
    def report(self) -> Path:
        return self.root / self.REPORT


@dataclasses.dataclass(frozen=True)
class ModelSummary:
    """One configuration's headline numbers in ``result.json`` (the design or a baseline).

    Attributes
    ----------
    feasible
        Whether every layer had a valid mapping and the limits held.
    edp, energy_pj, cycles
        The model's energy-delay product (pJ·cycles), energy (pJ) and latency (cycles); ``inf`` when infeasible.
    area_mm2
        The accelerator's area.
    edp_without_dram
        EDP with the DRAM energy left out (``inf`` when infeasible).
    reason
        Why it is infeasible (``None`` when feasible).
    hardware
        The accelerator (``None`` for an infeasible entry, whose JSON does not carry it).
    """

    feasible: bool
    edp: float
    energy_pj: float
    cycles: float
    area_mm2: float
    edp_without_dram: float
    reason: str | None
    hardware: HardwareConfig | None

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> "ModelSummary":
        num = lambda k: float(obj[k]) if obj.get(k) is not None else math.inf  # noqa: E731 - JSON null = inf
        hw = obj.get("hardware")
        return cls(
            feasible=bool(obj["feasible"]),
            edp=num("edp"),
            energy_pj=num("energy_pj"),
            cycles=num("cycles"),
            area_mm2=float(obj["area_mm2"]),
            edp_without_dram=num("edp_without_dram"),
            reason=obj.get("reason"),
            hardware=None if hw is None else HardwareConfig.from_json(hw),
        )


@dataclasses.dataclass(frozen=True)
class CoDesignReport:
    """``result.json`` of a co-design, typed: what :func:`tvm_codesign.pipeline.codesign` returns.

    Attributes
    ----------
    folder
        Where every output is (:class:`ResultFolder`).
    design
        The co-designed accelerator with its chosen mappings.
    baselines
        ``eyeriss``, ``eyeriss_rs`` and ``vta`` under the same inner budget and system parameters (empty when the
        run skipped them).
    evaluations
        Hardware evaluations told to the outer search (replayed ones included).
    seconds
        Wall time of the outer search.
    raw
        The whole ``result.json`` (per-layer rows, settings, database report).
    """

    folder: ResultFolder
    design: ModelSummary
    baselines: dict[str, ModelSummary]
    evaluations: int
    seconds: float
    raw: dict[str, Any]

    @classmethod
    def load(cls, folder: str | Path) -> "CoDesignReport":
        """Read a finished co-design folder's ``result.json``."""
        rf = ResultFolder(Path(folder))
        if not rf.result.is_file():
            raise CodesignError(f"{rf.root} has no {ResultFolder.RESULT}; is it a finished co-design?")
        return cls.from_json(rf, json.loads(rf.result.read_text()))

    @classmethod
    def from_json(cls, folder: ResultFolder, obj: dict[str, Any]) -> "CoDesignReport":
        return cls(
            folder=folder,
            design=ModelSummary.from_json(obj["design"]),
            baselines={k: ModelSummary.from_json(v) for k, v in obj["baselines"].items()},
            evaluations=int(obj["evaluations"]),
            seconds=float(obj["seconds"]),
            raw=obj,
        )


#: Dims VTA's GEMM core unrolls spatially (batch, input channels, output channels).
VTA_SPATIAL_DIMS = frozenset({"N", "C", "K"})


def write_json(path: Path, obj: Any) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def chosen_layers(evaluation: dict[str, Any]) -> list[tuple[Workload, Mapping, dict[str, Any]]]:
    """``(workload, chosen mapping, chosen Pareto point)`` per layer of an evaluation's JSON."""
    out = []
    for layer in evaluation["layers"]:
        point = layer["search"]["pareto"][layer["chosen"]]
        out.append((Workload.from_json(layer["workload"]), Mapping.from_json(point["mapping"]), point))
    return out


def summarise(evaluation: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of an evaluation, with the EDP without DRAM energy and per-layer rows."""
    if not evaluation["feasible"]:
        return {"feasible": False, "reason": evaluation["reason"], "area_mm2": evaluation["area_mm2"]}
    hw = HardwareConfig.from_json(evaluation["hardware"])
    rows, dram = [], 0.0
    for w, m, point in chosen_layers(evaluation):
        cost = evaluate(w, hw, [m]).row(0)
        dram += w.count * cost.energy_breakdown["DRAM"]
        rows.append(
            {
                "workload": w.name,
                "count": w.count,
                "energy_pj": cost.energy_pj,
                "cycles": cost.cycles,
                "edp": cost.edp,
                "utilisation": cost.utilisation,
                "dram_energy_pj": cost.energy_breakdown["DRAM"],
                "mapping": m.to_json(),
            }
        )
    energy, cycles = evaluation["energy_pj"], evaluation["cycles"]
    return {
        "feasible": True,
        "hardware": evaluation["hardware"],
        "edp": energy * cycles,
        "energy_pj": energy,
        "cycles": cycles,
        "area_mm2": evaluation["area_mm2"],
        "power_mw": evaluation.get("power_mw"),
        "edp_without_dram": (energy - dram) * cycles,
        "dram_energy_pj": dram,
        "layers": rows,
    }


def vta_config_if_fits(evaluation: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """``vta_config.json`` contents when the hardware and every chosen mapping fit VTA, else ``(None, why)``."""
    hw = HardwareConfig.from_json(evaluation["hardware"])
    try:
        cfg = to_vta_config(hw)
    except CodesignError as err:
        return None, str(err)
    for w, m, _ in chosen_layers(evaluation):
        spatial = {l.dim for l in m.loops if l.spatial and l.factor > 1}
        if not spatial <= VTA_SPATIAL_DIMS:
            return None, f"the mapping of {w.name} unrolls {''.join(sorted(spatial - VTA_SPATIAL_DIMS))} spatially; VTA only N, C, K"
    return cfg, None


def write_report(
    out: Path,
    model: str,
    design: dict[str, Any],
    baselines: dict[str, dict[str, Any]],
    trials: Sequence[dict[str, Any]],
    settings: dict[str, Any],
) -> None:
    """``report.md`` and the two plots."""
    lines = [f"# Co-design of {model}", ""]
    lines += ["## Result", "", "| config | EDP (pJ·cycles) | EDP w/o DRAM | energy (pJ) | cycles | area (mm²) |", "| --- | --- | --- | --- | --- | --- |"]
    for name, s in [("codesign", design), *baselines.items()]:
        if s.get("feasible"):
            lines.append(
                f"| {name} | {s['edp']:.4e} | {s['edp_without_dram']:.4e} | {s['energy_pj']:.4e} | {s['cycles']:.4e} | {s['area_mm2']:.3f} |"
            )
        else:
            lines.append(f"| {name} | infeasible: {s.get('reason')} | | | | {s.get('area_mm2', float('nan')):.3f} |")
    if design.get("feasible"):
        for name in ("eyeriss_rs", "eyeriss", "vta"):
            b = baselines.get(name, {})
            if b.get("feasible"):
                gain = 100 * (1 - design["edp"] / b["edp"])
                word = "lower" if gain >= 0 else "higher"
                lines.append(f"- vs `{name}`: EDP {abs(gain):.1f} % {word} ({b['edp'] / design['edp']:.2f}×)")
        hw = HardwareConfig.from_json(design["hardware"])
        lines += ["", "## Hardware", "", f"`{hw.summary()}`" if hasattr(hw, "summary") else f"`{hw.name}`", ""]
        lines += ["| component | area (mm²) |", "| --- | --- |"]
        for k, v in area(hw).components.items():
            lines.append(f"| {k} | {v:.4f} |")
        lines += ["", "## Layers", "", "| layer | count | energy (pJ) | cycles | EDP | utilisation |", "| --- | --- | --- | --- | --- | --- |"]
        for r in design["layers"]:
            lines.append(
                f"| {r['workload']} | {r['count']} | {r['energy_pj']:.4e} | {r['cycles']:.4e} | {r['edp']:.4e} | {100 * r['utilisation']:.1f} % |"
            )
    feasible = [t for t in trials if t.get("feasible")]
    lines += ["", "## Search", "", f"{len(trials)} hardware evaluations, {len(feasible)} feasible, "
              f"{sum(1 for t in trials if t.get('failed'))} failed.{_inner_budget_text(settings)} "
              f"Settings: `{json.dumps(settings, sort_keys=True)}`.", ""]
    lines += [f"![convergence]({ResultFolder.CONVERGENCE_PLOT})", "", f"![EDP vs area]({ResultFolder.EDP_VS_AREA_PLOT})", ""]
    with atomic_output(out / ResultFolder.REPORT) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    _plots(out, trials)


def _inner_budget_text(settings: dict[str, Any]) -> str:
    """`` Inner budget: 1500 evaluations or 2 s per layer and hardware candidate.`` (empty without ``inner``)."""
    from tvm_codesign.bilevel.outer import describe_budget

    inner = settings.get("inner")
    if not isinstance(inner, dict) or (inner.get("budget") is None and inner.get("seconds") is None):
        return ""
    text = f" Inner budget: {describe_budget(inner.get('budget'), inner.get('seconds'))} per layer and hardware candidate"
    if inner.get("seconds") is not None:
        text += " (in seconds: not reproducible on another machine)"
    return text + "."


def _plots(out: Path, trials: Sequence[dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    values = [math.exp(t["value"]) if t.get("feasible") and t.get("value") is not None else math.nan for t in trials]
    best = np.fmin.accumulate(np.where(np.isnan(values), np.inf, values)) if values else np.array([])
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(range(1, len(values) + 1), values, "o", alpha=0.5, label="trial")
    ax.plot(range(1, len(best) + 1), np.where(np.isinf(best), np.nan, best), "-", label="best so far")
    ax.set_yscale("log")
    ax.set_xlabel("hardware evaluation")
    ax.set_ylabel("model EDP (pJ·cycles)")
    ax.legend()
    fig.tight_layout()
    with atomic_output(out / ResultFolder.CONVERGENCE_PLOT, suffix=".png") as tmp:
        fig.savefig(tmp)
    plt.close(fig)

    pts = np.array([[t["area_mm2"], math.exp(t["value"])] for t in trials if t.get("feasible") and t.get("value") is not None])
    fig, ax = plt.subplots(figsize=(6, 4))
    if len(pts):
        ax.plot(pts[:, 0], pts[:, 1], "o", alpha=0.5, label="feasible trial")
        front = pts[pareto_front(pts)]
        front = front[np.argsort(front[:, 0])]
        ax.plot(front[:, 0], front[:, 1], "r-o", label="Pareto front")
    ax.set_yscale("log")
    ax.set_xlabel("area (mm²)")
    ax.set_ylabel("model EDP (pJ·cycles)")
    ax.legend()
    fig.tight_layout()
    with atomic_output(out / ResultFolder.EDP_VS_AREA_PLOT, suffix=".png") as tmp:
        fig.savefig(tmp)
    plt.close(fig)
