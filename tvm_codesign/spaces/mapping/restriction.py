"""Which gene values a space allows: the hardware, a named dataflow and the double-buffering option narrow the genome.

The hardware: an operand with no storage at a level bypasses it, a level nobody can use has factor 1 and one loop
order. A dataflow (:mod:`tvm_codesign.model.dataflow`) fixes factor slots, loop orders and cuts. A restricted
space's genomes are genomes of the free space (the factor tables do not depend on the restriction), so decoding
does not depend on it either.
"""

from __future__ import annotations

import numpy as np

from tvm_codesign.errors import CodesignError
from tvm_codesign.model.dataflow import FACTOR_SLOTS, Dataflow
from tvm_codesign.model.mapping import ON_CHIP
from tvm_codesign.model.workload import OPERANDS
from tvm_codesign.spaces.mapping.genome import GB_SLOT, RF_SLOT, AllowedGenes, GenomeCodec


def restrict(codec: GenomeCodec, dataflow: Dataflow | None, double_buffering: bool | str) -> AllowedGenes:
    """The allowed values of every gene of ``codec`` under ``dataflow`` (``None``: free) and ``double_buffering``
    (``"search"``: a gene, ``True`` / ``False``: fixed for both on-chip levels).

    Raises :class:`CodesignError` when the dataflow needs a slot to take a whole dim the hardware cannot hold.
    """
    _check_tables(codec, dataflow)
    slot_values = [[_slot_values(codec, dataflow, j, s) for s in range(4)] for j in range(codec.D)]
    return AllowedGenes(_allowed_values(codec, dataflow, double_buffering), codec.domain, slot_values)


def _slot_rule(codec: GenomeCodec, dataflow: Dataflow | None, j: int, s: int) -> str:
    """``"one"``, ``"all"`` or ``"free"``: what slot ``s`` of active dim ``j`` may take."""
    name = codec.active_names[j]
    if s == GB_SLOT and not codec.gb_used or s == RF_SLOT and not codec.rf_used:
        return "one"
    return "free" if dataflow is None else dataflow.slot_rule(name, FACTOR_SLOTS[s + 1])


def _check_tables(codec: GenomeCodec, dataflow: Dataflow | None) -> None:
    """A slot the dataflow gives a whole dim must have that dim's bound among its candidates."""
    for j, t in enumerate(codec.tables):
        b = int(codec.bounds[j])
        for s in range(4):
            if _slot_rule(codec, dataflow, j, s) == "all" and b not in t.cands[s]:
                where = FACTOR_SLOTS[s + 1]
                raise CodesignError(
                    f"dataflow {dataflow.name}: {where} must take all of {codec.active_names[j]}={b}, "
                    f"more than the {where} of {codec.hw.name} ({len(t.cands[s])})"
                )


def _slot_values(codec: GenomeCodec, dataflow: Dataflow | None, j: int, s: int) -> np.ndarray:
    """Allowed factors of slot ``s`` of active dim ``j``."""
    rule = _slot_rule(codec, dataflow, j, s)
    if rule == "one":
        return np.array([1], np.int64)
    if rule == "all":
        return np.array([codec.bounds[j]], np.int64)
    if any(_slot_rule(codec, dataflow, j, t) == "all" for t in range(4)):
        return np.array([1], np.int64)
    return codec.tables[j].cands[s]


def _allowed_values(codec: GenomeCodec, df: Dataflow | None, double_buffering: bool | str) -> list[np.ndarray]:
    """Per gene, the sorted allowed values."""
    D, hw = codec.D, codec.hw
    allowed: list[np.ndarray] = []
    for j, t in enumerate(codec.tables):
        ok = np.ones(t.size, bool)
        for s in range(4):
            ok &= np.isin(t.f[s], _slot_values(codec, df, j, s))
        allowed.append(np.flatnonzero(ok))
    every_perm = np.arange(len(codec.perms))
    allowed += [every_perm, every_perm if codec.gb_used else every_perm[:1]]
    rf_perm, rf_cut = every_perm if codec.rf_used else every_perm[:1], {}
    if df is not None and df.rf_chain is not None and codec.rf_used:
        rf_perm, rf_cut = _rf_chain(codec, df)
    allowed.append(rf_perm)
    offsets = np.arange(D + 1)
    for level in ON_CHIP:
        for op in OPERANDS:
            has = hw.buffer_for(op) is not None if level == "GB" else hw.rf_words(op) > 0
            if not has:
                vals = np.array([codec.bypass])
            elif level == "GB" and df is not None and op in df.gb_bypass:
                vals = np.array([codec.bypass])
            elif level == "GB" and df is not None and df.gb_even:
                vals = np.array([0])
            elif level == "RF" and op in rf_cut:
                vals = np.array([rf_cut[op]])
            else:
                vals = np.append(offsets, codec.bypass)
            allowed.append(vals.astype(np.int64))
    for used in (codec.gb_used, codec.rf_used):
        if not used or double_buffering is False:
            allowed.append(np.array([0], np.int64))
        elif double_buffering is True:
            allowed.append(np.array([1], np.int64))
        else:
            allowed.append(np.array([0, 1], np.int64))
    return allowed


def _rf_chain(codec: GenomeCodec, df: Dataflow) -> tuple[np.ndarray, dict[str, int]]:
    """RF orders and cuts of a chain of RF sub-levels: dims of no sub-level first (canonical order, factor 1),
    then each sub-level's dims outer to inner (any order within one); each operand cut above its sub-level."""
    names = codec.active_names
    groups = [[names.index(d) for d in dims if d in names] for _, dims in reversed(df.rf_chain)]  # outer first
    in_chain = {j for g in groups for j in g}
    head = [j for j in range(codec.D) if j not in in_chain]
    ok = np.all(codec.perms[:, : len(head)] == np.array(head, np.int64), axis=1)
    start, cuts = len(head), {}
    for (op, _), g in zip(reversed(df.rf_chain), groups):
        cuts[op] = start
        block = np.sort(codec.perms[:, start : start + len(g)], axis=1)
        ok &= np.all(block == np.sort(np.array(g, np.int64)), axis=1)
        start += len(g)
    return np.flatnonzero(ok), cuts


__all__ = ["restrict"]
