"""Search strategies behind one ask/tell interface (see :mod:`tvm_codesign.search.base`).

``make_strategy("bo", space, seed=0, kernel="rbf")`` builds one by name; :data:`STRATEGIES` lists them.
"""

from __future__ import annotations

import inspect
from typing import Any

from tvm_codesign.errors import CodesignError
from tvm_codesign.search.base import Outcome, SearchResult, SearchSpace, Strategy, pareto_front, run_search
from tvm_codesign.search.bo import BayesianOptimization
from tvm_codesign.search.exhaustive import Exhaustive
from tvm_codesign.search.random_search import RandomSearch
from tvm_codesign.search.skopt_search import SkoptSearch
from tvm_codesign.search.xgb_search import XGBSearch

STRATEGIES: dict[str, type[Strategy]] = {
    "random": RandomSearch,
    "bo": BayesianOptimization,
    "skopt": SkoptSearch,
    "xgb": XGBSearch,
    "exhaustive": Exhaustive,
}


def strategy_options(name: str) -> dict[str, Any]:
    """The keyword options of strategy ``name`` with their defaults."""
    cls = _lookup(name)
    params = inspect.signature(cls.__init__).parameters
    return {k: p.default for k, p in params.items() if k not in ("self", "space", "seed")}


def make_strategy(name: str, space: SearchSpace, seed: int = 0, **opts: Any) -> Strategy:
    """Build strategy ``name`` on ``space`` with ``seed`` and strategy-specific options.

    Raises
    ------
    CodesignError
        For an unknown strategy name or option (one line, listing what exists).
    """
    cls = _lookup(name)
    known = strategy_options(name)
    unknown = sorted(set(opts) - set(known))
    if unknown:
        raise CodesignError(
            f"unknown option(s) {', '.join(unknown)} for search strategy {name!r}; "
            f"it takes {', '.join(known) or 'none'}"
        )
    return cls(space, seed=seed, **opts)


def _lookup(name: str) -> type[Strategy]:
    try:
        return STRATEGIES[name]
    except (KeyError, TypeError):
        raise CodesignError(
            f"unknown search strategy {name!r}; choose one of {', '.join(STRATEGIES)}"
        ) from None


__all__ = [
    "STRATEGIES",
    "BayesianOptimization",
    "Exhaustive",
    "Outcome",
    "RandomSearch",
    "SearchResult",
    "SearchSpace",
    "SkoptSearch",
    "Strategy",
    "XGBSearch",
    "make_strategy",
    "pareto_front",
    "run_search",
    "strategy_options",
]
