"""The TVM side: model import, workload extraction from TIR, mappings as schedules, the meta_schedule database,
the codesign target, TVM's own tuning over the mapping genome, and the self-check against stock TVM.
"""
