"""One BERT-base encoder layer (post-LayerNorm, as in the original BERT).

Source: Devlin et al., "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
NAACL 2019 (BERT-base: hidden 768, 12 heads, FFN 3072, GELU), on the Transformer layer of Vaswani et al. 2017.
Sequence length 128, batch 1, no attention mask (every token attends to all 128), dropout omitted (inference).

MACs: Q, K, V, output projections 4*128*768*768 = 301,989,888; scores 12*128*64*128 = 12,582,912; context
12*128*128*64 = 12,582,912; FFN 2*128*768*3072 = 603,979,776; total 931,135,488.
"""

from __future__ import annotations

import math

from ._graph import Graph

#: Bump when the graph written here changes (part of the zoo cache file name).
VERSION = 1

#: BERT's weight initialiser is N(0, 0.02) (``initializer_range`` in the reference implementation).
_STD = 0.02


def build(seed: int, seq: int = 128, hidden: int = 768, heads: int = 12, ffn: int = 3072) -> Graph:
    """Build one encoder layer on a ``[1, seq, hidden]`` input.

    Parameters
    ----------
    seed
        Weight RNG seed.
    seq, hidden, heads, ffn
        Sequence length, model width, attention heads, feed-forward width (BERT-base: 128, 768, 12, 3072).
    """
    d = hidden // heads
    g = Graph("bert_layer", seed, doc="One BERT-base encoder layer (Devlin et al. 2019), seq 128, random weights")
    x = g.input("input", (1, seq, hidden))

    def heads_of(t: str, name: str, perm: tuple[int, ...]) -> str:
        # [1, seq, hidden] -> [1, seq, heads, d] -> heads-major (perm picks [.., seq, d] or [.., d, seq]).
        return g.transpose(g.reshape(t, (1, seq, heads, d), f"{name}.reshape"), perm, f"{name}.transpose")

    q = heads_of(g.linear(x, hidden, "attention.self.query", _STD), "attention.self.query", (0, 2, 1, 3))  # [1,12,128,64]
    k = heads_of(g.linear(x, hidden, "attention.self.key", _STD), "attention.self.key", (0, 2, 3, 1))  # [1,12,64,128]
    v = heads_of(g.linear(x, hidden, "attention.self.value", _STD), "attention.self.value", (0, 2, 1, 3))  # [1,12,128,64]
    scores = g.matmul(q, k, "attention.self.scores")  # [1,12,128,128]
    probs = g.softmax(g.scale(scores, 1.0 / math.sqrt(d), "attention.self.scale"), "attention.self.softmax")
    ctx = g.matmul(probs, v, "attention.self.context")  # [1,12,128,64]
    ctx = g.reshape(g.transpose(ctx, (0, 2, 1, 3), "attention.self.merge.transpose"), (1, seq, hidden), "attention.self.merge")
    attn = g.linear(ctx, hidden, "attention.output.dense", _STD)
    h = g.layer_norm(g.add(attn, x, "attention.output.residual"), "attention.output.layernorm")

    f = g.gelu_erf(g.linear(h, ffn, "intermediate.dense", _STD), "intermediate.gelu")
    f = g.linear(f, hidden, "output.dense", _STD)
    y = g.layer_norm(g.add(f, h, "output.residual"), "output.layernorm")
    g.output(y)
    return g
