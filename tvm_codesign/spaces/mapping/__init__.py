"""The mapping space of one layer on one accelerator: genome, restriction, sampler, canonical form, moves, features.

One module per concept (see :mod:`.space`); the public names are re-exported here.
"""

from tvm_codesign.spaces.mapping.genome import AllowedGenes, FactorTable, GenomeCodec
from tvm_codesign.spaces.mapping.objective import MappingObjective
from tvm_codesign.spaces.mapping.space import MappingSpace

__all__ = ["AllowedGenes", "FactorTable", "GenomeCodec", "MappingObjective", "MappingSpace"]
