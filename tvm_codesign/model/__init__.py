"""The vocabulary every other part speaks: workloads, dataflows, hardware, mappings and the schedulability rule.

Pure numpy: nothing here imports TVM or a search library.
"""
