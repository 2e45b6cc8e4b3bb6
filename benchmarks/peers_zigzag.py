"""Peer comparison with ZigZag 3.9.1: the same mappings scored by both models, and LOMA against our inner search.

Needs the ``peers`` extra (``pip install -e ".[peers]"``); ZigZag is never a runtime dependency of tvm_codesign.

1. **Model agreement.** The Eyeriss preset is rebuilt in ZigZag with the same PE array, RF / GB / DRAM sizes,
   bandwidths and per-bit access energies (``benchmarks/peers/convert.py``). ``--samples`` random valid mappings per
   layer (drawn by our ``MappingSpace.sample`` and kept only where every dim factorises exactly: ZigZag's temporal
   loops cannot pad) are scored by our ``evaluate`` and by ZigZag's ``CostModelEvaluation`` on a ``TemporalMapping``
   built directly from our tile placement. Reported: Spearman rho of EDP, energy and cycles, median ratios.
2. **Search.** ZigZag's own flow (its spatial-mapping generator + LOMA, ``opt="EDP"``) against our inner search
   (the co-design's default strategy, ``evolve``, with a time limit) whose best mappings by our model are re-scored
   in ZigZag's model on the hardware LOMA maps onto: best EDP under ZigZag's model and wall time of each.

Results: ``benchmarks/results/peers_zigzag.{jsonl,csv,md}``. The ``.jsonl`` holds one finished layer per line and
is fsynced as layers finish, so a killed run resumes with the next layer (``--fresh`` starts over). Default: four
layers, 150 mappings each, our searches limited to 2 s and 20 s (about 5 minutes); ``--full``: all four convertible
layers, 400 mappings.

    bash ci/with-venv.sh bash -c 'pip install -q -e ".[peers]" && python benchmarks/peers_zigzag.py'
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `benchmarks.*` when run as a script

from benchmarks.inner_search import LAYERS  # noqa: E402  (the project's fixed benchmark layers)
from benchmarks.peers.convert import is_perfect  # noqa: E402
from tvm_codesign.cost.model import evaluate  # noqa: E402
from tvm_codesign.model.presets import preset  # noqa: E402
from tvm_codesign.bilevel import defaults  # noqa: E402
from tvm_codesign.bilevel.mapping_search import DEFAULT_BATCH, search_seed  # noqa: E402
from tvm_codesign.model.mapping import Mapping  # noqa: E402
from tvm_codesign.spaces.mapping import MappingSpace  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_LAYERS = ("resnet50_3x3", "resnet50_1x1", "dqn_conv1", "bert_ffn")
FULL_LAYERS = ("resnet50_3x3", "resnet50_1x1", "dqn_conv1", "bert_ffn")  # mbv2_depthwise (G > 1) not converted

CSV_FIELDS = [
    "layer", "i", "ours_energy_pj", "ours_cycles", "ours_edp", "ours_energy_no_noc_pj", "zz_energy_pj", "zz_cycles",
    "zz_edp", "zz_strict_energy_pj", "zz_strict_cycles", "ours_dram_pj", "ours_gb_pj", "ours_rf_pj", "ours_noc_pj",
    "ours_reduction_pj", "ours_mac_pj", "zz_mac_pj", "zz_dram_pj", "zz_gb_pj", "zz_rf_pj", "ours_compute_cycles",
    "zz_ideal_cycles", "zz_stall", "zz_onloading", "zz_offloading", "gb_double_buffered", "rf_double_buffered",
    "bypass",
]


def perfect_sample(space: MappingSpace, n: int, rng: np.random.Generator, max_rounds: int = 60) -> list[Mapping]:
    """``n`` valid mappings from ``space.sample`` that factorise every dim exactly (fewer if ``max_rounds`` rounds
    of 4096 proposals do not yield them)."""
    out: list[Mapping] = []
    for _ in range(max_rounds):
        for m in space.decode_batch(space.sample(4096, rng)).to_mappings():
            if is_perfect(m, space.workload):
                out.append(m)
        if len(out) >= n:
            break
    return out[:n]


def _split_levels(mem_energy: dict[str, list[float]], holds: dict[str, frozenset[str]]) -> dict[str, float]:
    """ZigZag's per-operand memory energy (levels innermost first) summed into our DRAM, GB and RF."""
    out = {"DRAM": 0.0, "GB": 0.0, "RF": 0.0}
    for op, levels in mem_energy.items():
        names = [lv for lv in ("RF", "GB") if op in holds[lv]] + ["DRAM"]
        for lv, e in zip(names, levels):
            out[lv] += e
    return out


def agreement(layer: str, samples: int, seed: int) -> tuple[dict, list[dict]]:
    """Score ``samples`` exact-factorisation mappings in both models; summary and per-mapping rows."""
    from benchmarks.peers.convert import mapping_holds
    from benchmarks.peers.zigzag_model import ZigZagScorer

    hw = preset("eyeriss")
    w = LAYERS[layer]
    t0 = time.perf_counter()
    space = MappingSpace(w, hw)
    maps = perfect_sample(space, samples, np.random.default_rng(seed))
    ours = evaluate(w, hw, maps)
    zz = ZigZagScorer(w, hw)
    zz_strict = ZigZagScorer(w, hw, access_same_data_considered_as_no_access=False)
    rows = []
    for i, m in enumerate(maps):
        a = zz.score(m)
        b = zz_strict.score(m)
        holds = mapping_holds(m)
        zl = _split_levels(a.mem_energy, holds)
        br = {k: float(v[i]) for k, v in ours.energy_breakdown.items()}
        rows.append({
            "layer": layer, "i": i,
            "ours_energy_pj": float(ours.energy_pj[i]), "ours_cycles": float(ours.cycles[i]),
            "ours_edp": float(ours.edp[i]),
            "ours_energy_no_noc_pj": float(ours.energy_pj[i]) - br["noc"] - br["reduction"],
            "zz_energy_pj": a.energy_pj, "zz_cycles": a.cycles, "zz_edp": a.edp,
            "zz_strict_energy_pj": b.energy_pj, "zz_strict_cycles": b.cycles,
            "ours_dram_pj": br["DRAM"], "ours_gb_pj": br["GB"], "ours_rf_pj": br["RF"], "ours_noc_pj": br["noc"],
            "ours_reduction_pj": br["reduction"], "ours_mac_pj": br["mac"],
            "zz_mac_pj": a.mac_energy, "zz_dram_pj": zl["DRAM"], "zz_gb_pj": zl["GB"], "zz_rf_pj": zl["RF"],
            "ours_compute_cycles": float(ours.compute_cycles[i]), "zz_ideal_cycles": a.ideal_temporal_cycle,
            "zz_stall": a.stall_slack, "zz_onloading": a.onloading, "zz_offloading": a.offloading,
            "gb_double_buffered": m.is_double_buffered("GB"), "rf_double_buffered": m.is_double_buffered("RF"),
            "bypass": " ".join(f"{lv}:{op}" for lv in ("GB", "RF") for op in "IWO"
                               if op not in holds[lv] and _has_storage(hw, lv, op)),
            "mapping": m.to_json(),
        })
    col = lambda k: np.array([r[k] for r in rows])  # noqa: E731
    rho = lambda x, y: float(spearmanr(x, y).statistic)  # noqa: E731
    zz_strict_edp = col("zz_strict_energy_pj") * col("zz_strict_cycles")
    ours_no_noc_edp = col("ours_energy_no_noc_pj") * col("ours_cycles")
    summary = {
        "layer": layer,
        "n": len(rows),
        "rho_edp": rho(col("ours_edp"), col("zz_edp")),
        "rho_energy": rho(col("ours_energy_pj"), col("zz_energy_pj")),
        "rho_cycles": rho(col("ours_cycles"), col("zz_cycles")),
        "rho_edp_no_noc": rho(ours_no_noc_edp, col("zz_edp")),
        "rho_edp_strict": rho(col("ours_edp"), zz_strict_edp),
        "rho_edp_strict_no_noc": rho(ours_no_noc_edp, zz_strict_edp),
        "median_energy_ratio": float(np.median(col("zz_energy_pj") / col("ours_energy_pj"))),
        "median_energy_ratio_no_noc": float(np.median(col("zz_energy_pj") / col("ours_energy_no_noc_pj"))),
        "median_cycles_ratio": float(np.median(col("zz_cycles") / col("ours_cycles"))),
        "median_dram_ratio": float(np.median(col("zz_dram_pj") / col("ours_dram_pj"))),
        "median_noc_share": float(np.median((col("ours_noc_pj") + col("ours_reduction_pj")) / col("ours_energy_pj"))),
        "seconds": time.perf_counter() - t0,
    }
    return summary, rows


def _has_storage(hw, level: str, op: str) -> bool:
    return hw.buffer_for(op) is not None if level == "GB" else hw.rf_words(op) > 0


def search_vs_loma(layer: str, seconds: list[float], seed: int) -> dict:
    """ZigZag's LOMA flow vs our inner search (one run per time limit) re-scored under ZigZag's model."""
    from benchmarks.peers.zigzag_model import run_loma

    hw = preset("eyeriss")
    w = LAYERS[layer]
    loma = run_loma(w, hw)
    return {
        "layer": layer,
        "loma_edp": loma.edp, "loma_energy_pj": loma.energy_pj, "loma_cycles": loma.cycles,
        "loma_seconds": loma.seconds, "loma_spatial": loma.spatial, "loma_temporal": loma.temporal,
        "ours": [ours_under_zigzag(layer, t, seed) for t in seconds],
    }


#: Our candidates re-scored in ZigZag's model: the best by our model (and its Pareto points), then the next best
#: distinct mappings, half of them among those that factorise every dim exactly (ZigZag cannot pad, so it scores an
#: imperfect factorisation as the larger padded layer).
TOP_CANDIDATES = 24


def _top_candidates(space: MappingSpace, X: np.ndarray, y: np.ndarray, w, k: int) -> list[Mapping]:
    """The ``k`` best told genomes by our EDP, ``k // 2`` of them exact factorisations, as mappings."""
    order = np.argsort(y, kind="stable")
    order = order[np.isfinite(y[order])][: 50 * k]
    picked, exact = [], []
    for i in order:
        m = space.decode(X[i])
        if len(picked) < k - k // 2:
            picked.append(m)
        elif is_perfect(m, w) and len(exact) < k // 2:
            exact.append(m)
        if len(picked) + len(exact) >= k:
            break
    return picked + exact


def ours_under_zigzag(layer: str, seconds: float, seed: int, strategy: str = defaults.INNER_STRATEGY) -> dict:
    """Our inner search (the co-design's default strategy) with a time limit; its best and next-best mappings
    re-scored by ZigZag on LOMA's hierarchy."""
    from benchmarks.peers.zigzag_model import ZigZagScorer
    from tvm_codesign.search import make_strategy
    from tvm_codesign.search.base import run_search
    from tvm_codesign.spaces.mapping import MappingObjective

    hw = preset("eyeriss")
    w = LAYERS[layer]
    t0 = time.perf_counter()
    space = MappingSpace(w, hw)
    strat = make_strategy(strategy, space, seed=search_seed(seed, w, hw))
    batch = DEFAULT_BATCH.get(strategy, 16)
    res = run_search(strat, MappingObjective(w, hw, space=space), budget=10**12, batch_size=batch, time_limit=seconds)
    t_search = time.perf_counter() - t0
    zz = ZigZagScorer(w, hw, fixed_hierarchy=True)
    cands = _top_candidates(space, res.X, res.y, w, TOP_CANDIDATES)
    scored = []
    for k, m in enumerate(cands):
        c = zz.score(m)  # an imperfect factorisation is scored as the padded layer it executes
        scored.append({"k": k, "zz_edp": c.edp, "zz_energy_pj": c.energy_pj, "zz_cycles": c.cycles,
                       "exact": is_perfect(m, w), "mapping": m.to_json()})
    t_total = time.perf_counter() - t0
    best = min(scored, key=lambda r: r["zz_edp"]) if scored else None
    first = next((r for r in scored if r["k"] == 0), None)
    return {
        "ours_seconds_limit": seconds, "ours_search_seconds": t_search, "ours_total_seconds": t_total,
        "ours_strategy": strategy,
        "ours_evaluations": res.evaluations,
        "ours_edp_own_model": float(np.exp(res.best_value)) if math.isfinite(res.best_value) else None,
        "ours_candidates": len(cands), "ours_candidates_exact": sum(r["exact"] for r in scored),
        "ours_best_exact": best["exact"] if best else None,
        "ours_best_zz_edp": best["zz_edp"] if best else None,
        "ours_best_zz_energy_pj": best["zz_energy_pj"] if best else None,
        "ours_best_zz_cycles": best["zz_cycles"] if best else None,
        "ours_top1_zz_edp": first["zz_edp"] if first else None,
        "ours_best_mapping": best["mapping"] if best else None,
        "scored": [{k: v for k, v in r.items() if k != "mapping"} for r in scored],
    }


def _fmt(x: float | None, spec: str = ".3g") -> str:
    return "–" if x is None else format(x, spec)


def write_tables(done: dict[str, dict], out: Path, cmd: str) -> None:
    rows = [r for l in done.values() for r in l["agreement_rows"]]
    with open(out.with_suffix(".csv"), "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        wr.writeheader()
        for r in rows:
            wr.writerow(r)
    L = [
        "# Peer comparison with ZigZag 3.9.1",
        "",
        f"Command: `{cmd}`",
        "",
        "Hardware: the `eyeriss` preset (12 x 14 PEs; RF I/W/O 12/224/24 words; 108 kB GB for I and O, W bypassing "
        "it; DRAM 8 B/cycle; int16 words, int32 partial sums) rebuilt in ZigZag with the same sizes, bandwidths and "
        "pJ per bit (`benchmarks/peers/convert.py`). Per-mapping numbers: `peers_zigzag.csv`; raw runs: "
        "`peers_zigzag.jsonl`.",
        "",
        "## 1. Same mappings, both models",
        "",
        "Random valid mappings drawn by our `MappingSpace.sample`, kept only where every dim factorises exactly "
        "(ZigZag's temporal loops cannot pad; imperfect factorisations are left out of the sample). Each is scored "
        "by our `evaluate` and by ZigZag's `CostModelEvaluation` on a `TemporalMapping` built from our placement. "
        "A mapping that bypasses a level is scored on a ZigZag hierarchy without that level for that operand. "
        "ZigZag default = `access_same_data_considered_as_no_access=True` (its API's setting); *strict* = `False` "
        "(a read per MAC, like ours). *no NoC* = our energy without the array-network and reduction terms, which "
        "ZigZag does not model.",
        "",
        "| layer | n | ρ EDP | ρ energy | ρ cycles | ρ EDP (ours no NoC) | ρ EDP (ZigZag strict) | ρ EDP (both) | "
        "ZZ/ours energy | ZZ/ours energy (no NoC) | ZZ/ours cycles | NoC share of ours |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for l in done.values():
        s = l["agreement"]
        L.append(
            f"| {s['layer']} | {s['n']} | {s['rho_edp']:.3f} | {s['rho_energy']:.3f} | {s['rho_cycles']:.3f} | "
            f"{s['rho_edp_no_noc']:.3f} | {s['rho_edp_strict']:.3f} | {s['rho_edp_strict_no_noc']:.3f} | "
            f"{s['median_energy_ratio']:.3f} | {s['median_energy_ratio_no_noc']:.3f} | "
            f"{s['median_cycles_ratio']:.3f} | {s['median_noc_share']:.3f} |"
        )
    met = all(l["agreement"]["rho_edp"] >= 0.9 for l in done.values())
    L += ["", f"Target ρ(EDP) ≥ 0.9 on every layer: **{'met' if met else 'missed'}** "
          f"(ratios are medians over the sample).", ""]
    L += [
        "## 2. LOMA against our inner search, under ZigZag's model",
        "",
        "ZigZag: `get_hardware_performance_zigzag(opt=\"EDP\")` with its defaults (spatial-mapping generator, 3 "
        "spatial mappings, LOMA with `lpf_limit=6`, uneven mappings), wall time of the call. Ours: the co-design's "
        f"inner default (`{defaults.INNER_STRATEGY}`) with a time limit, then its {TOP_CANDIDATES} best distinct "
        "mappings by our model (half of them exact factorisations) re-scored by ZigZag on the hierarchy LOMA "
        "maps onto (a mapping with an imperfect factorisation as the padded layer it executes: ZigZag cannot pad, "
        "and then also counts the padded data, which our model clips, so this is pessimistic for us); wall time = "
        "search + re-scoring. *top-1* is the "
        "ZigZag EDP of our single best mapping by our own model.",
        "",
        "| layer | LOMA EDP (pJ·cycles) | LOMA s | ours best EDP in ZZ | ours top-1 EDP in ZZ | ours s | ours / LOMA EDP | "
        "exact / candidates |",
        "|---|---|---|---|---|---|---|---|",
    ]
    wins: dict[float, list[bool]] = {}
    for l in done.values():
        s = l["search"]
        for o in s["ours"]:
            ratio = o["ours_best_zz_edp"] / s["loma_edp"] if o["ours_best_zz_edp"] else None
            wins.setdefault(o["ours_seconds_limit"], []).append(
                ratio is not None and ratio < 1 and o["ours_total_seconds"] < s["loma_seconds"])
            L.append(
                f"| {s['layer']} (ours {o['ours_seconds_limit']:g} s limit) | {s['loma_edp']:.3e} | "
                f"{s['loma_seconds']:.1f} | {_fmt(o['ours_best_zz_edp'], '.3e')} | {_fmt(o['ours_top1_zz_edp'], '.3e')} "
                f"| {o['ours_total_seconds']:.1f} | {_fmt(ratio, '.3f')} | "
                f"{o['ours_candidates_exact']}/{o['ours_candidates']} |"
            )
    L.append("")
    for t, w in wins.items():
        L.append(f"Target better EDP in less time, our {t:g} s runs: **{'met' if all(w) else 'missed'}** "
                 f"({sum(w)} of {len(w)} layers).")
    L.append("")
    notes = Path(__file__).resolve().parent / "peers" / "zigzag_notes.md"
    if notes.exists():
        L += [notes.read_text().rstrip(), ""]
    out.with_suffix(".md").write_text("\n".join(L))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="four layers, 400 mappings each")
    ap.add_argument("--layers", default=None, help="comma-separated layers of benchmarks/inner_search.py")
    ap.add_argument("--samples", type=int, default=None, help="mappings per layer (default 150, --full 400)")
    ap.add_argument("--seconds", default=None, help="our searches' time limits, comma-separated (default 2,20)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fresh", action="store_true", help="ignore finished layers in the results file")
    ap.add_argument("--table-only", action="store_true", help="only rewrite the tables from finished layers")
    ap.add_argument("--out", default=str(RESULTS / "peers_zigzag"))
    args = ap.parse_args(argv)
    layers = args.layers.split(",") if args.layers else list(FULL_LAYERS if args.full else DEFAULT_LAYERS)
    samples = args.samples or (400 if args.full else 150)
    seconds = [float(x) for x in (args.seconds or "2,20").split(",")]
    unknown = [l for l in layers if l not in LAYERS]
    if unknown:
        print(f"peers_zigzag: error: unknown layer(s) {', '.join(unknown)}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    log = out.with_suffix(".jsonl")
    done: dict[str, dict] = {}
    if args.fresh:
        log.unlink(missing_ok=True)
    elif log.exists():
        for line in log.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash
            done[row["layer"]] = row
    cmd = "bash ci/with-venv.sh bash -c 'pip install -q -e \".[peers]\" && python benchmarks/peers_zigzag.py" + (
        " --full" if args.full else "") + "'"
    if not args.table_only:
        with open(log, "a") as f:
            for layer in layers:
                if layer in done:
                    print(f"peers_zigzag: {layer} already done", file=sys.stderr)
                    continue
                summary, rows = agreement(layer, samples, args.seed)
                print(f"{layer}: n={summary['n']} rho(EDP)={summary['rho_edp']:.3f} "
                      f"rho(E)={summary['rho_energy']:.3f} rho(cycles)={summary['rho_cycles']:.3f} "
                      f"({summary['seconds']:.0f} s)", file=sys.stderr, flush=True)
                s = search_vs_loma(layer, seconds, args.seed)
                print(f"{layer}: LOMA EDP {s['loma_edp']:.3e} in {s['loma_seconds']:.1f} s; ours "
                      + "; ".join(f"{_fmt(o['ours_best_zz_edp'], '.3e')} in {o['ours_total_seconds']:.1f} s"
                                  for o in s["ours"]),
                      file=sys.stderr, flush=True)
                row = {"layer": layer, "samples": samples, "seconds": seconds, "seed": args.seed,
                       "agreement": summary, "agreement_rows": rows, "search": s}
                done[layer] = row
                f.write(json.dumps(row) + "\n")
                f.flush()
                os.fsync(f.fileno())
    done = {l: done[l] for l in layers if l in done} | {l: r for l, r in done.items() if l not in layers}
    write_tables(done, out, cmd)
    print(f"peers_zigzag: wrote {out.with_suffix('.md')} and {out.with_suffix('.csv')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
