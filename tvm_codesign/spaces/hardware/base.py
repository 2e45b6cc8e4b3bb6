"""HardwareSpace: what every template shares: knobs, sampling within the area budget, moves, encoding, listing.

A template (a subclass: :mod:`.eyeriss`, :mod:`.vta`, :mod:`.per_operand`) fixes the on-chip organisation and
says how its genes decode to a :class:`HardwareConfig`, what its area terms are, and which genomes are
structurally invalid. Everything else, here, works on genomes alone; :class:`FreeArraySpace` adds what the
templates with a free PE array and register files share. ``HardwareSpace("vta", ...)`` builds the
template's class, so callers name a template rather than a class.

Known constraints: ``area(decode(g)).total_mm2 <= area_budget_mm2`` plus the template's structural ones. Area
never decreases when a gene grows, which the sampler's constructive fallback, :meth:`HardwareSpace.grow` and
:meth:`HardwareSpace.min_area` rely on. :meth:`HardwareSpace.area_batch` evaluates
:func:`tvm_codesign.cost.physical.area_components`, the formula :func:`~tvm_codesign.cost.physical.area` uses,
on arrays: it equals ``area(decode(g)).total_mm2`` bit for bit, so the budget test needs no re-check.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Any, ClassVar, Iterator, Sequence

import numpy as np

from tvm_codesign.cost import physical
from tvm_codesign.cost.physical import area
from tvm_codesign.errors import CodesignError
from tvm_codesign.model.hardware import Buffer, HardwareConfig, SystemParams
from tvm_codesign.model.presets import PRESETS, preset
from tvm_codesign.spaces.hardware.budget import area_budget_from
from tvm_codesign.spaces.hardware.knobs import Knob, KnobSpec

#: Spaces with at most this many genomes keep their in-budget genomes and sample them exactly uniformly.
SMALL_SPACE = 200_000
#: size() counts exactly up to this many genomes, estimates above.
COUNT_LIMIT = 5_000_000

#: Template name -> its class, in the order the templates are defined (the error message lists them so).
TEMPLATES: dict[str, type["HardwareSpace"]] = {}


class HardwareSpace:
    """The outer search space: genomes of knob indices whose configs fit ``area_budget_mm2``.

    Parameters
    ----------
    template
        ``"eyeriss"`` (shared GB for I and O, W bypass, RFs), ``"vta"`` (per-operand buffers, square power-of-two
        array, no RFs) or ``"per_operand"`` (each buffer optional with its own bandwidth, RFs, free array); see
        each template's module for knobs and grids. ``HardwareSpace(template, ...)`` returns that template's class;
        a template class takes ``template=None`` (or its own name).
    system
        The run's :class:`SystemParams`, carried unchanged by every decoded config.
    area_budget_mm2
        mm², or anything :func:`~tvm_codesign.spaces.hardware.budget.area_budget_from` takes (default
        ``"eyeriss"``: the Eyeriss preset's area).
    fill_share
        Share of each :meth:`sample` that is grown to fill the budget (:meth:`grow`); 0 (default) samples
        uniformly over the in-budget genomes. The co-design uses 0.5: a uniform in-budget draw leaves on average
        much of the area unused (most random designs are small), and an unused budget rarely lowers EDP, so half
        the candidates come from the maximal designs — still random, and the other half keeps small designs in
        reach (they win on DRAM-bound models, where energy per access matters more than PEs).
    **overrides
        Per knob, ``(lo, hi)`` to narrow or widen the template's grid (same rule, new ends), or an explicit list
        of values, e.g. ``pe_rows=(2, 4)``, ``gb_kib=[64, 108]``.

    Attributes
    ----------
    knobs
        One :class:`Knob` per gene.
    drawn, accepted
        Genomes drawn and accepted by rejection sampling so far (``acceptance_rate`` is their ratio).
    """

    #: The template's name (set by ``class X(HardwareSpace, template="name")``).
    template: ClassVar[str]
    #: One spec per gene, in gene order.
    SPECS: ClassVar[tuple[KnobSpec, ...]]
    #: Gene indices by name (an IntEnum whose members are the spec names upper-cased, in gene order).
    Gene: ClassVar[type[enum.IntEnum]]

    def __init_subclass__(cls, template: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if template is None:
            return
        if [g.name.lower() for g in cls.Gene] != [s.name for s in cls.SPECS] or list(cls.Gene) != list(
            range(len(cls.SPECS))
        ):
            raise TypeError(f"{cls.__name__}: Gene must name the SPECS in order")  # a template bug
        cls.template = template
        TEMPLATES[template] = cls

    def __new__(cls, template: str | None = None, *args: Any, **kwargs: Any) -> "HardwareSpace":
        if cls is HardwareSpace:
            name = "eyeriss" if template is None else template
            if name not in TEMPLATES:
                raise CodesignError(
                    f"unknown hardware template {name!r}; known templates: {', '.join(TEMPLATES)}"
                )
            cls = TEMPLATES[name]
        return super().__new__(cls)

    def __init__(
        self,
        template: str | None = None,
        system: SystemParams | None = None,
        area_budget_mm2: float | str = "eyeriss",
        fill_share: float = 0.0,
        **overrides: Any,
    ) -> None:
        if template is not None and template != self.template:
            raise CodesignError(f"{type(self).__name__} is the {self.template!r} template, not {template!r}")
        if not 0.0 <= fill_share <= 1.0:
            raise CodesignError(f"fill_share must be in [0, 1], got {fill_share!r}")
        self.fill_share = float(fill_share)
        self.system = system if system is not None else SystemParams()
        self.area_budget_mm2 = area_budget_from(area_budget_mm2, self.system)
        unknown = sorted(set(overrides) - {s.name for s in self.SPECS})
        if unknown:
            raise CodesignError(
                f"unknown {self.template} knob(s) {', '.join(unknown)}; knobs: {', '.join(s.name for s in self.SPECS)}"
            )
        self.knobs: tuple[Knob, ...] = tuple(s.knob(overrides.get(s.name), self.template) for s in self.SPECS)
        self.genome_size = len(self.knobs)
        self._values = [np.asarray(k.values, dtype=np.int64) for k in self.knobs]
        self._radix = np.array([len(k) for k in self.knobs], dtype=np.int64)
        self._build_area_tables()
        self.drawn = 0
        self.accepted = 0
        self._feasible_cache: np.ndarray | None = None
        self._size_cache: float | None = None
        self._prior: float | None = None
        self._enc_tables: list[np.ndarray] | None = None

    # ----------------------------------------------------------------------------------------------------------
    # What a template says.

    def _build_area_tables(self) -> None:
        """Per-gene-value area lookup tables (µm²), built once from :mod:`~tvm_codesign.cost.physical`'s per-part
        functions: the vectorised area gathers from them instead of calling the scalar technology models."""
        raise NotImplementedError

    def _area_components(self, g: np.ndarray) -> dict[str, np.ndarray]:
        """``physical.area_components`` of in-box genomes ``g``: one array per component."""
        raise NotImplementedError

    def _structural_ok(self, g: np.ndarray) -> np.ndarray:
        """``(m,)`` bool: constraints other than area (none by default)."""
        return np.ones(len(g), dtype=bool)

    def _config(self, genome: Sequence[int], name: str = "codesign") -> HardwareConfig:
        """The config of one genome, named ``name``."""
        raise NotImplementedError

    def _knob_values_of(self, hw: HardwareConfig, why: str) -> list[int]:
        """The knob values of ``hw`` in gene order, or a :class:`CodesignError` starting with ``why``."""
        raise NotImplementedError

    def _constructive_order(self, order: np.ndarray) -> np.ndarray:
        """The random knob order of :meth:`_constructive`, as the template needs it (unchanged by default)."""
        return order

    # ----------------------------------------------------------------------------------------------------------
    # Area and validity.

    def area_batch(self, genomes: np.ndarray) -> np.ndarray:
        """``(m,)`` total area in mm² of each genome's config; equals ``area(decode(g)).total_mm2`` exactly."""
        g = self._as_genomes(genomes)
        return physical.total_mm2(self._area_components(g))

    def _fits(self, g: np.ndarray) -> np.ndarray:
        """In-box genomes only: structural constraints and area <= budget."""
        return self._structural_ok(g) & (self.area_batch(g) <= self.area_budget_mm2)

    def _in_box(self, g: np.ndarray) -> np.ndarray:
        return np.all((g >= 0) & (g < self._radix), axis=1)

    def valid(self, genomes: np.ndarray) -> np.ndarray:
        """``(m,)`` bool: inside the gene bounds, structurally valid, and within the area budget."""
        g = np.asarray(genomes, dtype=np.int64).reshape(-1, self.genome_size)
        inb = self._in_box(g)
        out = np.zeros(len(g), dtype=bool)
        if inb.any():
            out[inb] = self._fits(g[inb])
        return out

    # ----------------------------------------------------------------------------------------------------------
    # Genomes <-> configs.

    def _as_genomes(self, genomes: np.ndarray) -> np.ndarray:
        g = np.asarray(genomes, dtype=np.int64).reshape(-1, self.genome_size)
        if len(g) and not self._in_box(g).all():
            raise CodesignError(f"genome outside the {self.template} space's gene bounds")
        return g

    def knob_values(self, genome: Sequence[int]) -> dict[str, int]:
        """``{knob name: value}`` of one genome, in the knobs' units."""
        g = self._as_genomes(np.asarray(genome))[0]
        return {k.name: int(self._values[i][g[i]]) for i, k in enumerate(self.knobs)}

    def decode(self, genome: Sequence[int]) -> HardwareConfig:
        """The :class:`HardwareConfig` of ``genome``, named ``codesign-<first 8 hex of its config hash>``."""
        hw = self._config(genome)
        return dataclasses.replace(hw, name=f"codesign-{hw.config_hash()[:8]}")

    def genome_of(self, hw: HardwareConfig) -> np.ndarray:
        """The genome whose config equals ``hw`` knob-wise, or a one-line :class:`CodesignError` saying why none."""
        why = f"{hw.name!r} is not in the {self.template} hardware space:"
        if hw.system != self.system:
            raise CodesignError(f"{why} its system parameters differ from the run's")
        genome = []
        for knob, value in zip(self.knobs, self._knob_values_of(hw, why)):
            i = knob.index(value)
            if i is None:
                raise CodesignError(
                    f"{why} {knob.name} = {value} is not on its grid ({knob.values[0]}..{knob.values[-1]})"
                )
            genome.append(i)
        g = np.array(genome, dtype=np.int64)
        if self._config(g).config_hash() != hw.config_hash():
            raise CodesignError(f"{why} it differs from the config of its nearest genome (buffer names or order?)")
        return g

    def preset_genomes(self) -> np.ndarray:
        """``(m, genome_size)`` genomes of the presets representable in this space that fit the budget (checked
        with :func:`~tvm_codesign.cost.physical.area`): the warm start of the outer search. May be empty."""
        out = []
        for name in PRESETS:
            hw = preset(name, self.system)
            try:
                g = self.genome_of(hw)
            except CodesignError:
                continue
            if area(hw).total_mm2 <= self.area_budget_mm2 and self._structural_ok(g[None])[0]:
                out.append(g)
        return np.array(out, dtype=np.int64).reshape(-1, self.genome_size)

    # ----------------------------------------------------------------------------------------------------------
    # SearchSpace.

    def gene_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Inclusive ``(low, high)`` per gene: ``0`` and ``len(grid) - 1``."""
        return np.zeros(self.genome_size, dtype=np.int64), self._radix - 1

    def box_size(self) -> int:
        """Genomes inside the gene bounds, in budget or not."""
        return int(np.prod(self._radix.astype(object)))

    def _box_chunks(self, chunk: int = 1 << 16) -> Iterator[np.ndarray]:
        total = self.box_size()
        for lo in range(0, total, chunk):
            flat = np.arange(lo, min(total, lo + chunk), dtype=np.int64)
            yield np.stack(np.unravel_index(flat, tuple(self._radix)), axis=1).astype(np.int64)

    def _feasible_all(self) -> np.ndarray:
        """Every in-budget genome of a small space (cached)."""
        if self._feasible_cache is None:
            parts = [c[self._fits(c)] for c in self._box_chunks()]
            self._feasible_cache = np.concatenate(parts) if parts else np.zeros((0, self.genome_size), np.int64)
        return self._feasible_cache

    def size(self) -> float:
        """Genomes meeting the known constraints: counted exactly up to :data:`COUNT_LIMIT` genomes in the box,
        else the box size times the acceptance of a fixed-seed probe of 200,000 uniform genomes (an estimate)."""
        if self._size_cache is None:
            box = self.box_size()
            if box <= SMALL_SPACE:
                self._size_cache = float(len(self._feasible_all()))
            elif box <= COUNT_LIMIT:
                self._size_cache = float(sum(int(self._fits(c).sum()) for c in self._box_chunks()))
            else:
                probe = np.random.default_rng(0).integers(0, self._radix, size=(200_000, self.genome_size))
                self._size_cache = float(box) * float(self._fits(probe).mean())
        return self._size_cache

    def enumerate(self, limit: int) -> Iterator[np.ndarray]:
        """Every in-budget genome in chunks (mixed-radix order); refuses a space above ``limit`` at the call."""
        if self.box_size() > COUNT_LIMIT or self.size() > limit:
            raise CodesignError(
                f"{self.template} hardware space has ~{self.size():.3g} genomes in budget "
                f"({self.box_size():.3g} in its bounds); too many to enumerate (limit {limit})"
            )
        return (c[self._fits(c)] for c in self._box_chunks())

    @property
    def acceptance_rate(self) -> float:
        """Fraction of uniformly drawn genomes that met the known constraints so far (NaN before any draw); for a
        small space, which samples from its listing, the exact in-budget fraction of its box."""
        if self.box_size() <= SMALL_SPACE:
            return self.size() / self.box_size()
        return self.accepted / self.drawn if self.drawn else float("nan")

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``(m, genome_size)`` genomes within the budget, ``m = n`` unless nothing fits (then ``m = 0``).

        Uniform draws (:meth:`sample_uniform`); with ``fill_share > 0``, each row with probability ``fill_share`` is
        then grown to fill the budget (:meth:`grow`).
        """
        g = self.sample_uniform(n, rng)
        if self.fill_share > 0 and len(g):
            pick = rng.random(len(g)) < self.fill_share
            g[pick] = self.grow(g[pick], rng)
        return g

    def grow(self, genomes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Each genome grown one grid step at a time, on a random knob that can still grow within the budget,
        until none can: a maximal design (every single-knob step up breaks the budget or the bounds).

        Area never decreases when a gene grows, so the walk ends; the result is in budget whenever the start is.
        """
        g = self._as_genomes(genomes).copy()
        alive = np.arange(len(g))
        K = self.genome_size
        while len(alive):
            cur = g[alive]
            cand = np.repeat(cur, K, axis=0)
            cand[np.arange(len(cand)), np.tile(np.arange(K), len(cur))] += 1
            ok = self.valid(cand).reshape(len(cur), K)
            keys = np.where(ok, rng.random(ok.shape), -1.0)
            k = keys.argmax(axis=1)
            can = ok.any(axis=1)
            g[alive[can], k[can]] += 1
            alive = alive[can]
        return g

    def sample_uniform(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``(m, genome_size)`` genomes drawn uniformly within the budget, ``m = n`` unless nothing fits.

        Small spaces (<= :data:`SMALL_SPACE` genomes) draw uniformly from their listed in-budget genomes. Larger
        ones draw uniformly in the box and reject (uniform over the in-budget set), up to ``50 n`` draws; any
        shortfall (a tight budget) is filled constructively: knobs in random order, each uniform over the values
        that still fit with the remaining knobs at their smallest (area is monotone in every knob).
        """
        if n <= 0:
            return np.zeros((0, self.genome_size), dtype=np.int64)
        if self.box_size() <= SMALL_SPACE:
            pts = self._feasible_all()
            if not len(pts):
                return pts.copy()
            return pts[rng.integers(0, len(pts), n)]
        got: list[np.ndarray] = []
        have, drawn = 0, 0
        # Batch sizes follow a fixed-seed prior and this call's own draws only, never earlier calls: the same
        # rng state gives the same genomes whatever the space was asked before (resumed runs replay exactly).
        rate = self._prior_rate()
        while have < n and drawn < 50 * n:
            m = int(min(max(1.2 * (n - have) / rate, 256), 50 * n - drawn, 2_000_000))
            g = rng.integers(0, self._radix, size=(m, self.genome_size))
            ok = self._fits(g)
            self.drawn += m
            self.accepted += int(ok.sum())
            drawn += m
            got.append(g[ok])
            have += int(ok.sum())
            rate = max(have / drawn, 1.0 / drawn)
        out = np.concatenate(got)[:n]
        if len(out) < n:
            out = np.concatenate([out, self._constructive(n - len(out), rng)])
        return out

    def _prior_rate(self) -> float:
        """Acceptance of a fixed-seed probe of 4096 uniform genomes (at least 1/4096)."""
        if self._prior is None:
            probe = np.random.default_rng(12345).integers(0, self._radix, size=(4096, self.genome_size))
            self._prior = max(float(self._fits(probe).mean()), 1.0 / 4096)
        return self._prior

    def _constructive(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``<= n`` in-budget genomes built knob by knob (see :meth:`sample_uniform`)."""
        g = np.zeros((n, self.genome_size), dtype=np.int64)
        alive = self._fits(g)  # the all-smallest genome: if it does not fit, nothing does
        g = g[alive]
        for k in self._constructive_order(rng.permutation(self.genome_size)):
            if not len(g):
                break
            L = int(self._radix[k])
            cand = np.repeat(g, L, axis=0)
            cand[:, k] = np.tile(np.arange(L), len(g))
            ok = self._fits(cand).reshape(len(g), L)
            # Uniform among the fitting values of knob k: the argmax of random keys over the fitting ones.
            keys = np.where(ok, rng.random(ok.shape), -1.0)
            g[:, k] = keys.argmax(axis=1)
        return g

    def encode(self, genomes: np.ndarray) -> np.ndarray:
        """``(m, genome_size)`` floats in [0, 1]: log2 of each knob's value normalised over its grid (0 = absent
        sits one octave below the smallest positive value); a single-valued knob encodes as 0."""
        g = self._as_genomes(genomes)
        if self._enc_tables is None:
            tables = []
            for vals in self._values:
                pos = vals[vals > 0]
                logs = np.where(vals > 0, np.log2(np.maximum(vals, 1)), np.log2(pos.min()) - 1 if len(pos) else 0)
                span = logs.max() - logs.min()
                tables.append((logs - logs.min()) / span if span > 0 else np.zeros(len(vals)))
            self._enc_tables = tables
        return np.stack([t[g[:, i]] for i, t in enumerate(self._enc_tables)], axis=1).astype(float)

    def neighbors(self, genomes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One move from each genome: one knob changed by ±1, ±2 or ±4 grid steps (60/25/15 %), kept in budget.

        If the move does not fit (or leaves the bounds), the same knob's ±1 steps are tried, then ±1 steps of the
        other knobs in random order; the first that fits is taken. So every result differs from its genome in
        exactly one knob, unless no one-knob step fits at all (then the genome is returned unchanged).
        """
        g = self._as_genomes(genomes)
        n, K = g.shape
        if n == 0:
            return g.copy()
        k0 = rng.integers(0, K, n)
        sign = rng.choice(np.array([-1, 1]), n)
        mag = rng.choice(np.array([1, 2, 4]), n, p=[0.6, 0.25, 0.15])
        moves_k = [k0, k0, k0]
        moves_d = [sign * mag, sign, -sign]
        order = np.argsort(rng.random((n, K)), axis=1)  # other knobs in random order, k0 skipped below
        for j in range(K):
            kj = order[:, j]
            sj = rng.choice(np.array([-1, 1]), n)
            moves_k += [kj, kj]
            moves_d += [np.where(kj == k0, 0, sj), np.where(kj == k0, 0, -sj)]
        M = len(moves_k)
        cand = np.repeat(g[None], M, axis=0)  # (M, n, K)
        rows = np.arange(n)
        for c in range(M):
            cand[c, rows, moves_k[c]] += moves_d[c]
        flat = cand.reshape(M * n, K)
        changed = np.any(flat != np.tile(g, (M, 1)), axis=1)
        ok = changed & self._in_box(flat)
        if ok.any():
            ok[ok] = self._fits(flat[ok])
        ok = ok.reshape(M, n)
        first = ok.argmax(axis=0)
        out = cand[first, rows]
        return np.where(ok.any(axis=0)[:, None], out, g)

    # ----------------------------------------------------------------------------------------------------------
    def min_area(self) -> tuple[float, HardwareConfig | None]:
        """The smallest area of a structurally valid config in the space, and that config (``None`` if none).

        Area grows with every knob, so without structural constraints it is the all-smallest genome; with them
        (``vta``'s one entry per buffer) the listed box is searched when small, else the all-smallest genome is
        taken if it is valid.
        """
        if self.box_size() <= COUNT_LIMIT:
            best, arg = math.inf, None
            for c in self._box_chunks():
                c = c[self._structural_ok(c)]
                if len(c):
                    a = self.area_batch(c)
                    i = int(a.argmin())
                    if a[i] < best:
                        best, arg = float(a[i]), c[i]
            if arg is None:
                return math.inf, None
        else:
            arg = np.zeros(self.genome_size, dtype=np.int64)
            if not self._structural_ok(arg[None])[0]:
                return math.inf, None
        hw = self.decode(arg)
        return area(hw).total_mm2, hw

    def describe(self) -> str:
        """One line per knob: name, grid ends and count, unit."""
        return "\n".join(
            f"{k.name}: {k.values[0]}..{k.values[-1]} {k.unit} ({len(k)} values)" for k in self.knobs
        )

    def __repr__(self) -> str:
        return (
            f"HardwareSpace({self.template!r}, budget={self.area_budget_mm2:.4g} mm², "
            f"{self.system.precision}, genes={self.genome_size}, box={self.box_size():.3g})"
        )


class FreeArraySpace(HardwareSpace):
    """A template with a free ``pe_rows x pe_cols`` array and per-PE register files: genes ``pe_rows``, ``pe_cols``,
    then the buffer genes, then ``rf_input_words``, ``rf_weight_words``, ``rf_output_words``.

    A subclass says only what its buffers are: :meth:`_build_buffer_tables`, :meth:`_buffer_area_um2`,
    :meth:`_buffers` and :meth:`_buffer_values_of`.
    """

    def _rf_genes(self) -> dict[str, int]:
        """Operand -> its register-file gene."""
        return {"I": self.Gene.RF_INPUT_WORDS, "W": self.Gene.RF_WEIGHT_WORDS, "O": self.Gene.RF_OUTPUT_WORDS}

    def _build_buffer_tables(self) -> None:
        """The buffers' area lookup tables (µm²)."""
        raise NotImplementedError

    def _buffer_area_um2(self, g: np.ndarray) -> dict[str, np.ndarray]:
        """Buffer name -> µm² of each genome's buffer, in the config's buffer order (0 where absent)."""
        raise NotImplementedError

    def _buffers(self, v: dict[str, int]) -> tuple[Buffer, ...]:
        """The buffers of knob values ``v``."""
        raise NotImplementedError

    def _buffer_values_of(self, hw: HardwareConfig, why: str) -> list[int]:
        """The buffer genes' knob values of ``hw``, or a :class:`CodesignError` starting with ``why``."""
        raise NotImplementedError

    def _build_area_tables(self) -> None:
        self._rf_um2 = {  # operand -> one PE's RF at each value of its gene
            op: np.array([physical.rf_um2(int(w), op, self.system) for w in self._values[i]])
            for op, i in self._rf_genes().items()
        }
        self._build_buffer_tables()

    def _area_components(self, g: np.ndarray) -> dict[str, np.ndarray]:
        rows, cols = self.Gene.PE_ROWS, self.Gene.PE_COLS
        return physical.area_components(
            self._values[rows][g[:, rows]] * self._values[cols][g[:, cols]],
            {op: self._rf_um2[op][g[:, i]] for op, i in self._rf_genes().items()},
            self._buffer_area_um2(g),
            self.system,
        )

    def _config(self, genome: Sequence[int], name: str = "codesign") -> HardwareConfig:
        v = self.knob_values(genome)
        return HardwareConfig(
            name=name,
            pe_rows=v["pe_rows"],
            pe_cols=v["pe_cols"],
            buffers=self._buffers(v),
            rf_input_words=v["rf_input_words"],
            rf_weight_words=v["rf_weight_words"],
            rf_output_words=v["rf_output_words"],
            system=self.system,
        )

    def _knob_values_of(self, hw: HardwareConfig, why: str) -> list[int]:
        return [hw.pe_rows, hw.pe_cols, *self._buffer_values_of(hw, why), *(hw.rf_words(o) for o in "IWO")]
