"""MobileNetV2 (width 1.0) with the torchvision topology.

Source: Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", CVPR 2018, as implemented by
``torchvision.models.mobilenet_v2``. Published cost (torchvision model docs): 0.30 G multiply-accumulates at
224x224.

ReLU6 is ``Clip(0, 6)``; depthwise convs are ``Conv`` with ``group = channels``; BatchNorm is folded into the
conv bias; the classifier's dropout is an inference no-op and omitted.
"""

from __future__ import annotations

from ._graph import Graph

#: Bump when the graph written here changes (part of the zoo cache file name).
VERSION = 1

#: torchvision ``inverted_residual_setting``: expansion t, output channels c, repeats n, first stride s.
_SETTING = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


def _inverted_residual(g: "Graph", x: str, out_ch: int, stride: int, expand: int, name: str) -> str:
    """Expand 1x1 (skipped when t = 1) -> depthwise 3x3 (stride) -> linear 1x1 project; residual if shapes match."""
    in_ch = g.shapes[x][1]
    hidden = in_ch * expand
    y = x
    if expand != 1:
        y = g.relu6(g.conv(y, hidden, 1, 1, pad=0, name=f"{name}.expand"), f"{name}.expand.relu6")
    y = g.relu6(g.conv(y, hidden, 3, stride, group=hidden, name=f"{name}.dw"), f"{name}.dw.relu6")
    # Linear bottleneck: no activation after the projection.
    y = g.conv(y, out_ch, 1, 1, pad=0, name=f"{name}.project", gain=0.5 if stride == 1 and in_ch == out_ch else 1.0)
    if stride == 1 and in_ch == out_ch:
        y = g.add(y, x, f"{name}.add")
    return y


def build(seed: int, image: int = 224, classes: int = 1000) -> Graph:
    """Build MobileNetV2 on a ``[1, 3, image, image]`` input.

    Parameters
    ----------
    seed
        Weight RNG seed.
    image, classes
        Input resolution and classifier width (torchvision: 224, 1000).
    """
    g = Graph("mobilenet_v2", seed, doc="MobileNetV2 width 1.0, torchvision topology (Sandler et al. 2018), random weights")
    x = g.input("input", (1, 3, image, image))
    x = g.relu6(g.conv(x, 32, 3, 2, name="features.0"), "features.0.relu6")
    idx = 1
    for t, c, n, s in _SETTING:
        for i in range(n):
            x = _inverted_residual(g, x, c, s if i == 0 else 1, t, f"features.{idx}")
            idx += 1
    x = g.relu6(g.conv(x, 1280, 1, 1, pad=0, name=f"features.{idx}"), f"features.{idx}.relu6")
    x = g.global_avgpool_flat(x, "avgpool")
    x = g.gemm(x, classes, "classifier", gain=1.0)
    g.output(x)
    return g
