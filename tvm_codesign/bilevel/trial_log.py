"""The trial log: one JSON line per finished evaluation, flushed and fsynced, read back to resume a run.

A run killed at any moment loses at most the evaluation in flight: every finished one is on disk before the next
starts. A line cut by the kill is ignored on reading. Records are keyed by the genome, so a resumed run can hand
logged outcomes back to its strategy instead of evaluating again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable


def genome_key(genome: Iterable[int]) -> str:
    """The log key of a genome (its ints joined by commas)."""
    return ",".join(str(int(g)) for g in genome)


def header_differences(logged: dict[str, Any], current: dict[str, Any], prefix: str = "") -> list[str]:
    """The settings (dotted keys, e.g. ``inner.seconds``) in which two headers differ.

    A key missing from one header counts as ``None``: a setting added after a log was written (such as the inner
    budget in seconds) is ``None`` when unused, so such a log still resumes under the same settings.
    """
    out: list[str] = []
    for key in sorted(set(logged) | set(current)):
        a, b = logged.get(key), current.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += header_differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}")
    return out


class TrialLog:
    """Append-only JSON-lines log of finished trials.

    Parameters
    ----------
    path
        The ``.jsonl`` file; created on the first append.
    header
        The run's settings, written as the first line of a new log and checked against an existing one: resuming
        with other settings would mix two different searches (a one-line :class:`CodesignError` names the settings
        that differ, :func:`header_differences`). The co-design records its inner budget here (``inner.budget``
        evaluations and ``inner.seconds``): a budget in evaluations is reproducible across machines for one seed,
        one in seconds is not, and either one changed refuses the resume.
    """

    def __init__(self, path: str | os.PathLike, header: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.header = header or {}
        self.records: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            self._read()
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._append({"header": self.header})

    def _read(self) -> None:
        from tvm_codesign.errors import CodesignError

        lines = self.path.read_text().splitlines()
        for n, line in enumerate(lines):
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                if n == len(lines) - 1:
                    continue  # the line a kill cut short
                raise CodesignError(f"trial log {self.path} is corrupt at line {n + 1}") from None
            if "header" in row:
                changed = header_differences(row["header"], self.header) if self.header else []
                if changed:
                    raise CodesignError(
                        f"--resume with other settings than the logged run ({', '.join(changed)}); use another -o"
                    )
                continue
            self.records[row["key"]] = row

    def _append(self, row: dict[str, Any]) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(row, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def get(self, genome: Iterable[int]) -> dict[str, Any] | None:
        """The finished record of ``genome`` (``None`` if it was not logged)."""
        return self.records.get(genome_key(genome))

    def add(self, genome: Iterable[int], record: dict[str, Any]) -> None:
        """Log a finished trial (fsynced before returning)."""
        row = dict(record, key=genome_key(genome))
        self._append(row)
        self.records[row["key"]] = row

    def __len__(self) -> int:
        return len(self.records)
