"""The hardware space: the knobs of a template as a genome, with the area budget enforced when candidates are made.
"""
