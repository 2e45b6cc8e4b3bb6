"""The co-design search: a mapping search per layer (inner) inside a constrained search over hardware (outer).

No TVM: every function here is cheap to ship to a worker process or a Dask cluster.
"""
