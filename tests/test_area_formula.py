"""The area formula is written once: the hardware space's vectorised area is ``area(decode(g))`` to the bit.

:func:`tvm_codesign.cost.physical.area_components` serves both the scalar :func:`~tvm_codesign.cost.physical.area`
and :meth:`HardwareSpace.area_batch`, so the budget test needs no scalar re-check near the budget. The seeded
digests below were taken from the space before it was split into one class per template (same genomes, moves and
validity); they hold for a given NumPy (its ``Generator`` streams), like the rest of the suite's seeded tests.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from tvm_codesign.cost.physical import area
from tvm_codesign.errors import CodesignError
from tvm_codesign.model.hardware import SystemParams
from tvm_codesign.model.vta import to_vta_config
from tvm_codesign.spaces.hardware import TEMPLATES, HardwareSpace

SYSTEMS = [
    SystemParams(),
    SystemParams(precision="int8"),
    SystemParams(precision="int8", acc_bits=24),  # widths off the [H14] table points: interpolated areas
]


def _random_genomes(space: HardwareSpace, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, space.gene_bounds()[1] + 1, size=(n, space.genome_size))


@pytest.mark.parametrize("system", SYSTEMS, ids=lambda s: f"{s.precision}-acc{s.acc_bits}")
@pytest.mark.parametrize("template", list(TEMPLATES))
def test_vectorised_area_is_the_scalar_area_bit_for_bit(template, system):
    space = HardwareSpace(template, system, 100.0)
    g = _random_genomes(space, 400, seed=17)
    g = np.concatenate([g, np.zeros((1, space.genome_size), np.int64), space.gene_bounds()[1][None]])
    scalar = np.array([area(space.decode(x)).total_mm2 for x in g])
    np.testing.assert_array_equal(space.area_batch(g), scalar)
    # Component by component too (an absent per_operand buffer is a zero component, absent in the scalar one).
    parts = space._area_components(g)
    for i in range(0, len(g), 40):
        for key, value in area(space.decode(g[i])).components.items():
            assert parts[key][i] == value, (key, g[i])


@pytest.mark.parametrize("template", list(TEMPLATES))
def test_valid_is_the_scalar_budget_test_at_the_last_ulp(template):
    """Budgets equal to a genome's own area, and one ulp either side: valid() decides as the scalar area does."""
    system = SystemParams()
    probe = HardwareSpace(template, system, 100.0)
    g = _random_genomes(probe, 60, seed=5)
    structural = probe._structural_ok(g)
    for x, ok in zip(g, structural):
        a = area(probe.decode(x)).total_mm2
        for budget in (np.nextafter(a, 0.0), a, np.nextafter(a, np.inf)):
            space = HardwareSpace(template, system, float(budget))
            assert space.valid(x[None])[0] == (ok and a <= budget)
    if template == "vta":  # the structural constraint is to_vta_config's one entry per buffer
        for x, ok in zip(g, structural):
            try:
                to_vta_config(probe.decode(x))
                assert ok
            except CodesignError:
                assert not ok


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a, dtype=np.int64).tobytes())
    return h.hexdigest()[:16]


#: sample(500) with fill_share 0.5, then neighbors, from default_rng(10); and valid() of 20,000 uniform genomes
#: from default_rng(3); at the Eyeriss budget. Taken from the single-class space of commit be2b17b.
BEFORE_THE_SPLIT = {
    ("eyeriss", "int16"): "a3afefbc5bd88147",
    ("eyeriss", "int8"): "1bdfe86f660a8aab",
    ("vta", "int16"): "af6772fff9b940cb",
    ("vta", "int8"): "d597aa984e120f90",
    ("per_operand", "int16"): "fc7423d026e4a178",
    ("per_operand", "int8"): "b038163bcd06539b",
}


@pytest.mark.parametrize("template, precision", list(BEFORE_THE_SPLIT))
def test_seeded_streams_are_those_of_before_the_split(template, precision):
    space = HardwareSpace(template, SystemParams(precision=precision), "eyeriss", fill_share=0.5)
    rng = np.random.default_rng(10)
    g = space.sample(500, rng)
    nb = space.neighbors(g, rng)
    valid = space.valid(_random_genomes(space, 20_000, seed=3))
    assert _digest(g, nb, valid) == BEFORE_THE_SPLIT[(template, precision)]
