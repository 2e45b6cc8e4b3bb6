"""The Nature DQN network for Atari.

Source: Mnih et al., "Human-level control through deep reinforcement learning", Nature 518, 2015 (Methods,
"Model architecture"): input 4x84x84 (the last four preprocessed frames); conv 32 filters 8x8 stride 4, ReLU;
conv 64 4x4 stride 2, ReLU; conv 64 3x3 stride 1, ReLU; fully connected 512, ReLU; fully connected, one output
per action. 18 actions is the full Atari action set. No padding anywhere: 84 -> 20 -> 9 -> 7.

MACs: 32*4*64*400 + 64*32*16*81 + 64*64*9*49 + 3136*512 + 512*18 = 9,352,192.
"""

from __future__ import annotations

from ._graph import Graph

#: Bump when the graph written here changes (part of the zoo cache file name).
VERSION = 1


def build(seed: int, actions: int = 18) -> Graph:
    """Build the Nature DQN on a ``[1, 4, 84, 84]`` input with ``actions`` Q-value outputs.

    Parameters
    ----------
    seed
        Weight RNG seed.
    actions
        Output width (18: the full Atari action set).
    """
    g = Graph("dqn", seed, doc="Nature DQN (Mnih et al. 2015), random weights")
    x = g.input("input", (1, 4, 84, 84))
    x = g.relu(g.conv(x, 32, 8, 4, pad=0, name="conv1"), "relu1")
    x = g.relu(g.conv(x, 64, 4, 2, pad=0, name="conv2"), "relu2")
    x = g.relu(g.conv(x, 64, 3, 1, pad=0, name="conv3"), "relu3")
    x = g.flatten(x, "flatten")  # 64*7*7 = 3136
    x = g.relu(g.gemm(x, 512, "fc1"), "relu4")
    x = g.gemm(x, actions, "fc2", gain=1.0)
    g.output(x)
    return g
