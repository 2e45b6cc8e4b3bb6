"""ResNet-18 and ResNet-50 with the torchvision topology.

Source: He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, as implemented by
``torchvision.models.resnet`` (ResNet-50 is "v1.5": the stride of a downsampling bottleneck sits on its 3x3
conv, not on the first 1x1). Published cost (torchvision model docs, "GFLOPS" there are multiply-accumulates):
ResNet-18 1.81 G, ResNet-50 4.09 G at 224x224.

BatchNorm is folded into each conv's bias (the weights are random, so there is nothing to fold).
"""

from __future__ import annotations

from ._graph import Graph

#: Bump when the graph written here changes (part of the zoo cache file name).
VERSION = 1

#: Blocks per stage (torchvision ``layers=``).
_STAGES = {"resnet18": (2, 2, 2, 2), "resnet50": (3, 4, 6, 3)}

#: Residual-branch output convs get a small gain so 16 un-normalised blocks do not blow activations up.
_BRANCH_GAIN = 0.5


def _basic_block(g: Graph, x: str, planes: int, stride: int, name: str) -> str:
    """torchvision ``BasicBlock``: 3x3 (stride) -> 3x3, identity or 1x1-conv shortcut; expansion 1."""
    in_ch = g.shapes[x][1]
    y = g.relu(g.conv(x, planes, 3, stride, name=f"{name}.conv1"), f"{name}.relu1")
    y = g.conv(y, planes, 3, 1, name=f"{name}.conv2", gain=_BRANCH_GAIN)
    short = x
    if stride != 1 or in_ch != planes:
        short = g.conv(x, planes, 1, stride, pad=0, name=f"{name}.downsample", gain=1.0)
    return g.relu(g.add(y, short, f"{name}.add"), f"{name}.relu")


def _bottleneck(g: Graph, x: str, planes: int, stride: int, name: str) -> str:
    """torchvision ``Bottleneck`` (v1.5): 1x1 -> 3x3 (stride) -> 1x1 (x4), 1x1-conv shortcut when shapes change."""
    in_ch = g.shapes[x][1]
    out_ch = planes * 4
    y = g.relu(g.conv(x, planes, 1, 1, pad=0, name=f"{name}.conv1"), f"{name}.relu1")
    y = g.relu(g.conv(y, planes, 3, stride, name=f"{name}.conv2"), f"{name}.relu2")
    y = g.conv(y, out_ch, 1, 1, pad=0, name=f"{name}.conv3", gain=_BRANCH_GAIN)
    short = x
    if stride != 1 or in_ch != out_ch:
        short = g.conv(x, out_ch, 1, stride, pad=0, name=f"{name}.downsample", gain=1.0)
    return g.relu(g.add(y, short, f"{name}.add"), f"{name}.relu")


def build(name: str, seed: int, image: int = 224, classes: int = 1000) -> Graph:
    """Build ``resnet18`` or ``resnet50`` on a ``[1, 3, image, image]`` input.

    Parameters
    ----------
    name
        ``"resnet18"`` (basic blocks) or ``"resnet50"`` (bottlenecks).
    seed
        Weight RNG seed.
    image, classes
        Input resolution and classifier width (torchvision: 224, 1000).
    """
    block = _basic_block if name == "resnet18" else _bottleneck
    g = Graph(name, seed, doc=f"{name}, torchvision topology (He et al. 2016; v1.5 stride on 3x3), random weights")
    x = g.input("input", (1, 3, image, image))
    # Stem: 7x7/2 conv, 3x3/2 max pool (224 -> 112 -> 56).
    x = g.relu(g.conv(x, 64, 7, 2, pad=3, name="conv1"), "relu")
    x = g.maxpool(x, 3, 2, 1, "maxpool")
    for stage, blocks in enumerate(_STAGES[name]):
        planes = 64 * 2**stage
        for i in range(blocks):
            stride = 2 if stage > 0 and i == 0 else 1
            x = block(g, x, planes, stride, f"layer{stage + 1}.{i}")
    x = g.global_avgpool_flat(x, "avgpool")
    x = g.gemm(x, classes, "fc", gain=1.0)
    g.output(x)
    return g
