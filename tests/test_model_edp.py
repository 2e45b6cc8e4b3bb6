"""Choosing one Pareto point per layer: equal to brute force over every combination."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tvm_codesign.cost.model_edp import choose_points


@pytest.mark.parametrize("seed", range(20))
def test_choice_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    layers = []
    for _ in range(rng.integers(1, 5)):
        n = int(rng.integers(1, 5))
        e = np.sort(rng.uniform(1, 100, n))
        t = np.sort(rng.uniform(1, 100, n))[::-1]  # a front: more energy, fewer cycles
        layers.append((int(rng.integers(1, 4)), list(zip(e, t))))
    got = choose_points(layers)
    best = min(
        (
            sum(c * pts[i][0] for (c, pts), i in zip(layers, combo))
            * sum(c * pts[i][1] for (c, pts), i in zip(layers, combo)),
            combo,
        )
        for combo in itertools.product(*[range(len(p)) for _, p in layers])
    )
    assert got.edp == pytest.approx(best[0], rel=1e-12)
    e = sum(c * pts[i][0] for (c, pts), i in zip(layers, got.choice))
    t = sum(c * pts[i][1] for (c, pts), i in zip(layers, got.choice))
    assert (got.energy_pj, got.cycles) == pytest.approx((e, t))


def test_non_decomposable_case_by_hand():
    """Layer B alone prefers (3, 3) (EDP 9) over (1, 10) (EDP 10). Beside layer A = (1, 100), the model's EDP is
    (1+1)·(100+10) = 220 with B's first point against (1+3)·(100+3) = 412 with its second: the choice flips."""
    got = choose_points([(1, [(1.0, 100.0)]), (1, [(1.0, 10.0), (3.0, 3.0)])])
    assert got.choice == (0, 0) and got.edp == pytest.approx(220.0)
    alone = choose_points([(1, [(1.0, 10.0), (3.0, 3.0)])])
    assert alone.choice == (1,) and alone.edp == pytest.approx(9.0)
