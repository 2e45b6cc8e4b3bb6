"""Search strategies behind one ask/tell interface (see :mod:`tvm_codesign.search.base`).

``make_strategy("bo", space, seed=0, kernel="rbf")`` builds one by name; :data:`REGISTRY` lists them.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from tvm_codesign.errors import CodesignError
from tvm_codesign.search.base import Outcome, SearchResult, SearchSpace, Strategy, run_search

#: Strategy name -> ``module:class``. Imported only when a strategy is made, so that importing the engine
#: (:mod:`tvm_codesign.search.base`) stays cheap to ship to workers: no scikit-learn, scikit-optimize or xgboost.
REGISTRY: dict[str, str] = {
    "random": "tvm_codesign.search.random_search:RandomSearch",
    "bo": "tvm_codesign.search.bo:BayesianOptimization",
    "skopt": "tvm_codesign.search.skopt_search:SkoptSearch",
    "xgb": "tvm_codesign.search.xgb_search:XGBSearch",
    "exhaustive": "tvm_codesign.search.exhaustive:Exhaustive",
    "evolve": "tvm_codesign.search.evolution:EvolutionarySearch",
}


def strategy_class(name: str) -> type[Strategy]:
    """The class of strategy ``name`` (its module imported on first use).

    Raises
    ------
    CodesignError
        For an unknown name (one line, listing what exists).
    """
    try:
        module, cls = REGISTRY[name].split(":")
    except (KeyError, TypeError, AttributeError):
        raise CodesignError(f"unknown search strategy {name!r}; choose one of {', '.join(REGISTRY)}") from None
    return getattr(importlib.import_module(module), cls)


def strategy_options(name: str) -> dict[str, Any]:
    """The keyword options of strategy ``name`` with their defaults."""
    cls = strategy_class(name)
    params = inspect.signature(cls.__init__).parameters
    return {k: p.default for k, p in params.items() if k not in ("self", "space", "seed")}


def make_strategy(name: str, space: SearchSpace, seed: int = 0, **opts: Any) -> Strategy:
    """Build strategy ``name`` on ``space`` with ``seed`` and strategy-specific options.

    Raises
    ------
    CodesignError
        For an unknown strategy name or option (one line, listing what exists).
    """
    cls = strategy_class(name)
    known = strategy_options(name)
    unknown = sorted(set(opts) - set(known))
    if unknown:
        raise CodesignError(
            f"unknown option(s) {', '.join(unknown)} for search strategy {name!r}; "
            f"it takes {', '.join(known) or 'none'}"
        )
    return cls(space, seed=seed, **opts)


__all__ = [
    "REGISTRY",
    "Outcome",
    "SearchResult",
    "SearchSpace",
    "Strategy",
    "make_strategy",
    "run_search",
    "strategy_class",
    "strategy_options",
]


def __getattr__(name: str) -> Any:
    # The strategy classes by their names (``tvm_codesign.search.BayesianOptimization``), imported on first use.
    for spec in REGISTRY.values():
        module, cls = spec.split(":")
        if cls == name:
            return getattr(importlib.import_module(module), cls)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
