"""A small hardware space for co-design tests: PE rows, PE cols and the GB size of an Eyeriss-like template."""

from __future__ import annotations

import numpy as np

from tvm_codesign.cost.physical import area
from tvm_codesign.model.hardware import Buffer, HardwareConfig

ROWS = (2, 4, 8, 12)
COLS = (2, 4, 8, 14)
GB_KB = (16, 32, 64, 108)


class ToyHardwareSpace:
    """Genome (rows index, cols index, GB size index); known constraint: area ≤ budget."""

    genome_size = 3

    def __init__(self, area_budget_mm2: float = 10.0, fail_rows: int | None = None) -> None:
        self.budget = area_budget_mm2
        self.fail_rows = fail_rows  # decode() makes a config whose search raises (for the failed-trial test)

    def decode(self, genome) -> HardwareConfig:
        r, c, g = (int(x) for x in genome)
        hw = HardwareConfig(
            name=f"toy-{ROWS[r]}x{COLS[c]}-{GB_KB[g]}k",
            pe_rows=ROWS[r],
            pe_cols=COLS[c],
            buffers=(Buffer("global", GB_KB[g] * 1024, ("I", "O"), 32.0),),
            rf_input_words=12,
            rf_weight_words=224,
            rf_output_words=24,
        )
        return hw

    def _all(self) -> np.ndarray:
        grid = np.array(np.meshgrid(range(4), range(4), range(4), indexing="ij")).reshape(3, -1).T
        return grid[[area(self.decode(g)).total_mm2 <= self.budget for g in grid]]

    def gene_bounds(self):
        return np.zeros(3, np.int64), np.array([3, 3, 3])

    def sample(self, n, rng):
        pts = self._all()
        return pts[rng.integers(0, len(pts), n)]

    def encode(self, genomes):
        return np.asarray(genomes, float) / 3.0

    def neighbors(self, genomes, rng):
        out = np.array(genomes, np.int64, copy=True)
        for row in out:
            k = rng.integers(0, 3)
            row[k] = min(3, max(0, row[k] + rng.choice((-1, 1))))
        ok = np.array([area(self.decode(g)).total_mm2 <= self.budget for g in out])
        return np.where(ok[:, None], out, genomes)

    def size(self):
        return float(len(self._all()))

    def valid(self, genomes):
        return np.array([area(self.decode(g)).total_mm2 <= self.budget for g in genomes])
