"""tvm_codesign: hardware/software co-design of neural accelerators as an Apache TVM plugin.

Pure modules (no TVM import, cheap to ship to workers): :mod:`workload`, :mod:`hardware`, :mod:`mapping`,
:mod:`cost`, :mod:`search`. TVM-facing modules: :mod:`frontend`, :mod:`extract`, :mod:`schedule`,
:mod:`transform`, :mod:`cli`.
"""

__version__ = "0.1.0"
