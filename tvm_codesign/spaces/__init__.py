"""Search spaces: a layer's mapping space on given hardware (:mod:`.mapping`) and the hardware space under an area
budget (:mod:`.hardware`). Both speak the ask/tell genome interface of :mod:`tvm_codesign.search.base`.
"""
