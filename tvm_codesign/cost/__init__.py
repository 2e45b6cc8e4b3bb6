"""The analytical, Timeloop-class cost model: technology table, energy and area, the vectorised evaluation of
mapping batches, the model's EDP over layers, and lower bounds.

Pure numpy: nothing here imports TVM.
"""
