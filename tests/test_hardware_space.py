"""HardwareSpace: the outer search's knobs, the area budget as a known constraint, sampling, moves, encoding.

Budgets are checked with :func:`tvm_codesign.model.hardware.area` on decoded configs, independently of the space's
vectorised area tables.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tvm_codesign.errors import CodesignError
from tvm_codesign.cost.physical import area
from tvm_codesign.model.hardware import Buffer, HardwareConfig, SystemParams
from tvm_codesign.model.presets import preset
from tvm_codesign.model.vta import from_vta_config, to_vta_config
from tvm_codesign.spaces.hardware import HardwareSpace, area_budget_from, check_budget
from tvm_codesign.search.base import SearchSpace, SupportsBounds, SupportsEnumerate, SupportsValid

SYSTEMS = [SystemParams(), SystemParams(precision="int8")]


def exact_area(space: HardwareSpace, genomes: np.ndarray) -> np.ndarray:
    return np.array([area(space.decode(g)).total_mm2 for g in genomes])


@pytest.fixture(params=["eyeriss", "vta", "per_operand"])
def template(request) -> str:
    return request.param


# ---------------------------------------------------------------------------------------------------------------
def test_protocols(template):
    s = HardwareSpace(template, SystemParams(), "eyeriss")
    for proto in (SearchSpace, SupportsBounds, SupportsEnumerate, SupportsValid):
        assert isinstance(s, proto)
    low, high = s.gene_bounds()
    assert low.shape == high.shape == (s.genome_size,) and (high >= low).all()


@pytest.mark.parametrize("system", SYSTEMS, ids=lambda s: s.precision)
@pytest.mark.parametrize("budget", ["eyeriss", "vta", 0.5])
def test_samples_fit_the_budget(template, system, budget):
    s = HardwareSpace(template, system, budget)
    g = s.sample(2000, np.random.default_rng(1))
    assert len(g) == 2000
    low, high = s.gene_bounds()
    assert ((g >= low) & (g <= high)).all()
    sub = g[:: 10]  # 200 decoded configs, checked with hardware.area
    assert (exact_area(s, sub) <= s.area_budget_mm2).all()
    assert s.valid(g).all()


def test_vectorised_area_equals_area(template):
    s = HardwareSpace(template, SystemParams(), 100.0)  # large budget: the whole box
    rng = np.random.default_rng(3)
    g = rng.integers(0, s.gene_bounds()[1] + 1, size=(300, s.genome_size))
    np.testing.assert_allclose(s.area_batch(g), exact_area(s, g), rtol=1e-12)


def test_valid_matches_area_and_bounds(template):
    s = HardwareSpace(template, SystemParams(), "eyeriss")
    rng = np.random.default_rng(4)
    g = rng.integers(0, s.gene_bounds()[1] + 1, size=(400, s.genome_size))
    want = exact_area(s, g) <= s.area_budget_mm2
    if template == "vta":  # one entry per buffer, what to_vta_config demands
        for i, x in enumerate(g):
            try:
                to_vta_config(s.decode(x))
            except CodesignError:
                want[i] = False
    np.testing.assert_array_equal(s.valid(g), want)
    out = g[:3].copy()
    out[0, 0] = -1
    out[1, 1] = s.gene_bounds()[1][1] + 1
    assert not s.valid(out)[:2].any()


def test_vta_decodes_are_vta_configs():
    s = HardwareSpace("vta", SystemParams(precision="int8"), "vta")
    for g in s.sample(200, np.random.default_rng(0)):
        hw = s.decode(g)
        cfg = to_vta_config(hw)  # raises if not representable
        assert 2 ** cfg["LOG_BLOCK"] == hw.pe_rows == hw.pe_cols
        assert hw.rf_input_words == hw.rf_weight_words == hw.rf_output_words == 0


def test_encode_shape_and_range(template):
    s = HardwareSpace(template, SystemParams(), 100.0)
    g = s.sample(1000, np.random.default_rng(5))
    x = s.encode(g)
    assert x.shape == (1000, s.genome_size) and x.dtype == float
    assert (x >= 0).all() and (x <= 1).all()
    lo, hi = s.gene_bounds()
    np.testing.assert_array_equal(s.encode(lo[None])[0], 0.0)
    np.testing.assert_array_equal(s.encode(hi[None])[0], 1.0)
    # log2 scale: doubling a power-of-two knob moves its feature by a constant amount
    j = {"vta": 1, "eyeriss": 3, "per_operand": 5}[template]  # inp_kib / gb_bandwidth / inp_bandwidth: powers of 2
    walk = np.tile(lo, (hi[j] + 1, 1))
    walk[:, j] = np.arange(hi[j] + 1)
    steps = np.diff(s.encode(walk)[:, j])
    np.testing.assert_allclose(steps, steps[0])


@pytest.mark.parametrize("system", SYSTEMS, ids=lambda s: s.precision)
def test_neighbors_one_knob_within_budget(template, system):
    s = HardwareSpace(template, system, "eyeriss")
    rng = np.random.default_rng(6)
    g = s.sample(3000, rng)
    nb = s.neighbors(g, rng)
    assert nb.shape == g.shape
    changed = (nb != g).sum(axis=1)
    assert (changed == 1).all(), np.bincount(changed)
    assert s.valid(nb).all()
    assert (exact_area(s, nb[::15]) <= s.area_budget_mm2).all()


def test_neighbors_repair_at_the_budget():
    """Genomes right at the budget: upward moves do not fit, so the repair steps down (still one knob)."""
    s = HardwareSpace("eyeriss", SystemParams(), "eyeriss")
    eyeriss = s.preset_genomes()
    assert len(eyeriss) == 1
    g = np.repeat(eyeriss, 500, axis=0)
    nb = s.neighbors(g, np.random.default_rng(7))
    assert ((nb != g).sum(axis=1) == 1).all()
    assert s.valid(nb).all()
    a = exact_area(s, nb[:50])
    assert (a <= s.area_budget_mm2).all()


def test_neighbors_unchanged_when_nothing_fits():
    s = HardwareSpace("eyeriss", SystemParams(), 100.0, pe_rows=[4], pe_cols=[4], gb_kib=[64],
                      gb_bandwidth=[32], rf_input_words=[0], rf_weight_words=[0], rf_output_words=[0])
    g = np.zeros((3, 7), dtype=np.int64)
    np.testing.assert_array_equal(s.neighbors(g, np.random.default_rng(0)), g)


def test_genome_of_inverts_decode(template):
    s = HardwareSpace(template, SystemParams(), 100.0)
    for g in s.sample(300, np.random.default_rng(8)):
        hw = s.decode(g)
        assert hw.name.startswith("codesign-") and len(hw.name) == len("codesign-") + 8
        np.testing.assert_array_equal(s.genome_of(hw), g)


def test_genome_of_refuses_what_is_not_in_the_space():
    eye = HardwareSpace("eyeriss", SystemParams(), 100.0)
    vta = HardwareSpace("vta", SystemParams(), 100.0)
    with pytest.raises(CodesignError, match="one buffer 'global' holding I and O"):
        eye.genome_of(preset("vta"))
    with pytest.raises(CodesignError, match="register files"):
        vta.genome_of(preset("eyeriss"))
    with pytest.raises(CodesignError, match="system parameters"):
        eye.genome_of(preset("eyeriss", SystemParams(precision="int8")))
    odd = HardwareConfig("odd", 12, 14, (Buffer("global", 100 * 1024 + 1, ("I", "O"), 32.0),), 12, 224, 24)
    with pytest.raises(CodesignError, match="off the grid"):
        eye.genome_of(odd)
    far = HardwareConfig("far", 33, 14, (Buffer("global", 108 * 1024, ("I", "O"), 32.0),), 12, 224, 24)
    with pytest.raises(CodesignError, match="pe_rows = 33") as err:
        eye.genome_of(far)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("system", SYSTEMS, ids=lambda s: s.precision)
def test_preset_genomes(system):
    eye = HardwareSpace("eyeriss", system, "eyeriss")
    g = eye.preset_genomes()
    assert g.shape == (1, 7)
    assert eye.decode(g[0]).config_hash() == preset("eyeriss", system).config_hash()
    assert eye.knob_values(g[0]) == {
        "pe_rows": 12, "pe_cols": 14, "gb_kib": 108, "gb_bandwidth": 32,
        "rf_input_words": 12, "rf_weight_words": 224, "rf_output_words": 24,
    }
    vta = HardwareSpace("vta", system, "vta")
    g = vta.preset_genomes()
    assert g.shape == (1, 4)
    assert vta.decode(g[0]).config_hash() == preset("vta", system).config_hash()
    assert vta.knob_values(g[0]) == {"block": 16, "inp_kib": 32, "wgt_kib": 256, "acc_kib": 128}
    # The VTA preset is larger than Eyeriss: at the Eyeriss budget it is no warm start.
    assert HardwareSpace("vta", system, "eyeriss").preset_genomes().shape == (0, 4)
    # Just below a preset's own area it does not fit.
    below = area(preset("eyeriss", system)).total_mm2 * (1 - 1e-9)
    assert HardwareSpace("eyeriss", system, below).preset_genomes().shape == (0, 7)


def test_per_operand_holds_vta_and_bypass():
    """per_operand: the VTA preset is a genome; absent buffers bypass; a dead bandwidth gene must be 0."""
    for system in SYSTEMS:
        s = HardwareSpace("per_operand", system, "vta")
        g = s.preset_genomes()
        assert g.shape == (1, 11)
        assert s.decode(g[0]).config_hash() == preset("vta", system).config_hash()
        with pytest.raises(CodesignError, match="one buffer per operand"):
            s.genome_of(preset("eyeriss", system))
    s = HardwareSpace("per_operand", SystemParams(), "eyeriss")
    hw = HardwareConfig("wbypass", 12, 14, (Buffer("input", 64 * 1024, ("I",), 32.0),
                                             Buffer("accumulator", 32 * 1024, ("O",), 64.0)), 12, 224, 24)
    g = s.genome_of(hw)
    assert g[3] == 0 and g[6] == 0  # no weight buffer, its bandwidth gene at 0
    assert s.decode(g).buffer_for("W") is None and s.valid(g[None])[0]
    dead = g.copy()
    dead[6] = 2
    assert not s.valid(dead[None])[0]
    sampled = s.sample(3000, np.random.default_rng(0))
    for _, i, j in ((0, 2, 5), (0, 3, 6), (0, 4, 7)):
        assert (sampled[sampled[:, i] == 0, j] == 0).all()
    nb = s.neighbors(np.repeat(g[None], 300, axis=0), np.random.default_rng(1))
    assert s.valid(nb).all() and ((nb != g).sum(axis=1) == 1).all()


def test_system_params_are_not_knobs(template):
    system = SystemParams(precision="int8", dram_bandwidth=16.0, clock_mhz=500.0)
    s = HardwareSpace(template, system, 2.0)
    configs = [s.decode(g) for g in s.sample(200, np.random.default_rng(9))]
    assert all(hw.system == system for hw in configs)
    assert not {"precision", "dram_bandwidth", "clock_mhz", "acc_bits"} & {k.name for k in s.knobs}


def test_sample_is_deterministic_per_seed(template):
    a = HardwareSpace(template, SystemParams(), "eyeriss")
    b = HardwareSpace(template, SystemParams(), "eyeriss")
    b.sample(777, np.random.default_rng(99))  # history must not change what a seed gives
    np.testing.assert_array_equal(a.sample(500, np.random.default_rng(10)), b.sample(500, np.random.default_rng(10)))
    np.testing.assert_array_equal(
        a.neighbors(a.sample(50, np.random.default_rng(1)), np.random.default_rng(2)),
        b.neighbors(b.sample(50, np.random.default_rng(1)), np.random.default_rng(2)),
    )
    assert not np.array_equal(a.sample(500, np.random.default_rng(10)), a.sample(500, np.random.default_rng(11)))


@pytest.mark.parametrize("name", ["eyeriss", "per_operand"])
def test_tight_budget_fills_constructively(name):
    """At a budget barely above the smallest config, rejection finds almost nothing; the fill still fits."""
    s = HardwareSpace(name, SystemParams(), 100.0)
    smallest = s.min_area()[0]
    tight = HardwareSpace(name, SystemParams(), smallest * 1.3)
    g = tight.sample(300, np.random.default_rng(11))
    assert len(g) == 300
    assert tight.acceptance_rate < 1e-3
    assert (exact_area(tight, g) <= tight.area_budget_mm2).all()
    assert len(np.unique(g, axis=0)) > 10  # not one point repeated


# ---------------------------------------------------------------------------------------------------------------
TINY = dict(pe_rows=(2, 4), pe_cols=(2, 4), gb_kib=[16, 108], gb_bandwidth=(8, 32),
            rf_input_words=[0, 12], rf_weight_words=[0, 224], rf_output_words=[0, 24])


def test_size_matches_brute_force():
    system = SystemParams()
    s = HardwareSpace("eyeriss", system, 0.25, **TINY)
    assert [k.values for k in s.knobs[:4]] == [(2, 3, 4), (2, 3, 4), (16, 108), (8, 16, 32)]
    count = 0
    for r, c, gb, bw, i, w, o in itertools.product(*(k.values for k in s.knobs)):
        hw = HardwareConfig("t", r, c, (Buffer("global", gb * 1024, ("I", "O"), float(bw)),), i, w, o, system)
        count += area(hw).total_mm2 <= 0.25
    assert 0 < count < s.box_size() == 3 * 3 * 2 * 3 * 2 * 2 * 2
    assert s.size() == count
    listed = np.concatenate(list(s.enumerate(10_000)))
    assert len(listed) == count and len(np.unique(listed, axis=0)) == count
    sampled = s.sample(5000, np.random.default_rng(0))
    assert {r.tobytes() for r in sampled} == {r.tobytes() for r in listed}  # uniform over all of them


def test_size_vta_brute_force():
    system = SystemParams(precision="int8")
    s = HardwareSpace("vta", system, "vta", block=(4, 16), inp_kib=(1, 64), wgt_kib=(1, 256), acc_kib=(1, 128))
    count = 0
    for b, i, w, a in itertools.product(*(k.values for k in s.knobs)):
        try:
            hw = from_vta_config({"LOG_INP_WIDTH": 3, "LOG_WGT_WIDTH": 3, "LOG_ACC_WIDTH": 5, "LOG_BATCH": 0,
                                  "LOG_BLOCK": b.bit_length() - 1, "LOG_INP_BUFF_SIZE": (i * 1024).bit_length() - 1,
                                  "LOG_WGT_BUFF_SIZE": (w * 1024).bit_length() - 1,
                                  "LOG_ACC_BUFF_SIZE": (a * 1024).bit_length() - 1}, system)
        except CodesignError:  # a buffer smaller than one entry
            continue
        count += area(hw).total_mm2 <= s.area_budget_mm2
    assert s.size() == count > 0


def test_size_per_operand_brute_force():
    """Count distinct configs (absent buffers have no bandwidth), so dead genes must not be counted twice."""
    system = SystemParams()
    tiny = dict(pe_rows=[4], pe_cols=(2, 4), inp_kib=[0, 16], wgt_kib=[0, 64], acc_kib=[0, 8],
                inp_bandwidth=(8, 16), wgt_bandwidth=(8, 16), acc_bandwidth=[32], rf_input_words=[0, 12],
                rf_weight_words=[0], rf_output_words=[0, 24])
    s = HardwareSpace("per_operand", system, 0.12, **tiny)
    configs = set()
    k = {kn.name: kn.values for kn in s.knobs}
    for c, i, w, a, bi, bw, i_rf, o_rf in itertools.product(k["pe_cols"], k["inp_kib"], k["wgt_kib"], k["acc_kib"],
                                                           k["inp_bandwidth"], k["wgt_bandwidth"],
                                                           k["rf_input_words"], k["rf_output_words"]):
        bufs = tuple(Buffer(n, kib * 1024, (op,), float(b)) for n, op, kib, b in
                     (("input", "I", i, bi), ("weight", "W", w, bw), ("accumulator", "O", a, 32)) if kib)
        hw = HardwareConfig("t", 4, c, bufs, i_rf, 0, o_rf, system)
        if area(hw).total_mm2 <= 0.12:
            configs.add(hw.config_hash())
    assert 0 < len(configs) < s.box_size()
    assert s.size() == len(configs)
    listed = np.concatenate(list(s.enumerate(10_000)))
    assert len({s.decode(g).config_hash() for g in listed}) == len(listed) == len(configs)


def test_enumerate_refuses_a_large_space():
    with pytest.raises(CodesignError, match="too many to enumerate"):
        HardwareSpace("eyeriss", SystemParams(), "eyeriss").enumerate(1000)


# ---------------------------------------------------------------------------------------------------------------
def test_area_budget_from():
    sysp = SystemParams()
    assert area_budget_from("eyeriss", sysp) == area(preset("eyeriss", sysp)).total_mm2
    assert area_budget_from("vta", SystemParams(precision="int8")) == area(
        preset("vta", SystemParams(precision="int8"))).total_mm2
    assert area_budget_from("eyeriss", SystemParams(precision="int8")) < area_budget_from("eyeriss", sysp)
    assert area_budget_from("1.5", sysp) == 1.5
    assert area_budget_from(2, sysp) == 2.0
    for bad in ("tpu", "-1", "0", 0, -3.0, float("nan"), "inf", None, True):
        with pytest.raises(CodesignError) as err:
            area_budget_from(bad, sysp)
        assert "\n" not in str(err.value)
    with pytest.raises(CodesignError, match="eyeriss, vta"):
        area_budget_from("tpu", sysp)


def test_impossible_budget_is_one_line_error(template):
    s = HardwareSpace(template, SystemParams(), 0.001)
    with pytest.raises(CodesignError) as err:
        check_budget(s)
    msg = str(err.value)
    assert "\n" not in msg and "0.001 mm²" in msg and "smallest" in msg
    smallest = s.min_area()[0]
    assert f"{smallest:.4g} mm²" in msg
    assert len(s.sample(10, np.random.default_rng(0))) == 0
    check_budget(HardwareSpace(template, SystemParams(), smallest))  # exactly the smallest fits
    check_budget(HardwareSpace(template, SystemParams(), "eyeriss"))


def test_min_area_is_the_smallest_config(template):
    s = HardwareSpace(template, SystemParams(), 100.0)
    smallest, hw = s.min_area()
    assert area(hw).total_mm2 == smallest
    assert (exact_area(s, s.sample(300, np.random.default_rng(12))) >= smallest).all()


def test_bad_templates_and_overrides():
    with pytest.raises(CodesignError, match="known templates: eyeriss, vta"):
        HardwareSpace("tpu")
    with pytest.raises(CodesignError, match="unknown eyeriss knob"):
        HardwareSpace("eyeriss", block=(2, 4))
    with pytest.raises(CodesignError, match="powers of two"):
        HardwareSpace("vta", block=[12])
    with pytest.raises(CodesignError, match="leaves no value"):
        HardwareSpace("vta", block=(5, 7))
    with pytest.raises(CodesignError, match="lo <= hi"):
        HardwareSpace("eyeriss", pe_rows=(8, 2))
    with pytest.raises(CodesignError, match=">= 1"):
        HardwareSpace("eyeriss", pe_rows=[0, 4])
    assert HardwareSpace("eyeriss", pe_rows=(1, 64)).knobs[0].values == tuple(range(1, 65))
    assert HardwareSpace("vta", wgt_kib=(3, 100)).knobs[2].values == (4, 8, 16, 32, 64)


def test_grids_hold_the_presets_and_documented_steps():
    s = HardwareSpace("eyeriss")
    vals = {k.name: k.values for k in s.knobs}
    assert 108 in vals["gb_kib"] and 4 in vals["gb_kib"] and 1024 in vals["gb_kib"]
    assert [v for v in vals["gb_kib"] if 64 <= v <= 128] == list(range(64, 129, 4))  # 16 steps per octave
    assert [v for v in vals["rf_weight_words"] if 128 <= v <= 256] == [128, 160, 192, 224, 256]  # 4 per octave
    assert vals["rf_input_words"][:9] == (0, 1, 2, 3, 4, 5, 6, 7, 8)
    assert vals["gb_bandwidth"] == (8, 16, 32, 64, 128, 256)


def test_large_samples_are_in_budget_and_distinct_enough():
    """The outer loop samples pools of ~1e4 candidates per ask (their speed: benchmarks/space_sampling.py)."""
    s = HardwareSpace("eyeriss", SystemParams(), "eyeriss")
    g = s.sample(10_000, np.random.default_rng(1))
    assert g.shape == (10_000, s.genome_size) and s.valid(g).all()
    assert len(np.unique(g, axis=0)) > 1_000
    assert 0.05 < s.acceptance_rate < 0.9


def test_strategies_run_on_the_space():
    """random and bo drive the space end to end on a cheap objective (log area: the smallest config wins)."""
    from tvm_codesign.search import make_strategy
    from tvm_codesign.search.base import Outcome, run_search

    s = HardwareSpace("eyeriss", SystemParams(), "eyeriss")

    def objective(genomes):
        a = s.area_batch(genomes)
        return Outcome(np.log(a), np.ones(len(a), bool))

    for name in ("random", "bo"):
        res = run_search(make_strategy(name, s, seed=0), objective, 24, batch_size=4, initial=s.preset_genomes())
        assert res.evaluations == 24
        assert s.valid(res.X).all()
        assert (exact_area(s, res.X) <= s.area_budget_mm2).all()


# ---------------------------------------------------------------------------------------------------------------
# Budget-filling samples (fill_share)


def test_grow_reaches_maximal_designs(template):
    s = HardwareSpace(template, SystemParams(), "eyeriss")
    rng = np.random.default_rng(21)
    start = s.sample(300, rng)
    grown = s.grow(start, rng)
    assert s.valid(grown).all()
    assert (grown >= start).all()  # only steps up
    assert (exact_area(s, grown[::10]) <= s.area_budget_mm2).all()
    # Maximal: no single knob can take one more grid step within the budget and the bounds (checked with
    # hardware.area through valid(), independently of grow's own loop).
    for k in range(s.genome_size):
        up = grown.copy()
        up[:, k] += 1
        assert not s.valid(up).any(), f"knob {s.knobs[k].name} could still grow"


def test_fill_share_fills_the_budget():
    uniform = HardwareSpace("eyeriss", SystemParams(), "eyeriss")
    half = HardwareSpace("eyeriss", SystemParams(), "eyeriss", fill_share=0.5)
    full = HardwareSpace("eyeriss", SystemParams(), "eyeriss", fill_share=1.0)
    fill = {name: s.area_batch(s.sample(1000, np.random.default_rng(4))) / s.area_budget_mm2
            for name, s in (("uniform", uniform), ("half", half), ("full", full))}
    # Uniform in-budget draws leave much of the area unused; grown ones use nearly all of it.
    assert np.median(fill["uniform"]) < 0.75
    assert np.min(fill["full"]) > 0.95
    assert 0.4 < np.mean(fill["half"] > 0.95) < 0.6  # about half grown
    assert (fill["half"] <= 1.0).all()
    # Same seed, same samples (resumed runs replay exactly).
    a = half.sample(200, np.random.default_rng(8))
    b = HardwareSpace("eyeriss", SystemParams(), "eyeriss", fill_share=0.5).sample(200, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)


def test_fill_share_is_checked():
    with pytest.raises(CodesignError, match="fill_share"):
        HardwareSpace("eyeriss", SystemParams(), "eyeriss", fill_share=1.5)
