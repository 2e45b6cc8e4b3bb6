"""A plain multi-layer perceptron 784-1024-1024-1024-10 (MNIST-sized input, three hidden layers, ReLU).

MACs: 784*1024 + 2*1024*1024 + 1024*10 = 2,910,208.
"""

from __future__ import annotations

from typing import Sequence

from ._graph import Graph

#: Bump when the graph written here changes (part of the zoo cache file name).
VERSION = 1

#: Layer widths, input first.
WIDTHS: tuple[int, ...] = (784, 1024, 1024, 1024, 10)


def build(seed: int, widths: Sequence[int] = WIDTHS) -> Graph:
    """Build the MLP as ``Gemm`` layers with ReLU between them on a ``[1, widths[0]]`` input.

    Parameters
    ----------
    seed
        Weight RNG seed.
    widths
        Input width then the width of every layer; no activation after the last.
    """
    g = Graph("mlp", seed, doc=f"MLP {'-'.join(map(str, widths))}, ReLU, random weights")
    x = g.input("input", (1, widths[0]))
    last = len(widths) - 1
    for i, width in enumerate(widths[1:], start=1):
        x = g.gemm(x, width, f"fc{i}", gain=1.0 if i == last else 2.0**0.5)
        if i != last:
            x = g.relu(x, f"relu{i}")
    g.output(x)
    return g
