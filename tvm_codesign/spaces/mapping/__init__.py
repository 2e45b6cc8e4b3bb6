"""The mapping space of one layer on one accelerator: genome, sampler, canonical form, moves and features.
"""
