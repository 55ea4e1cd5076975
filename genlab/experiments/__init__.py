"""Experiments: full-size training studies run from the command line, ``python -m genlab.experiments.<name> run``,
which write their results and ``provenance.json`` under ``results/``; the notebooks read and summarise those
results (notebook 30: ``bias_mitigation``; notebook 31: ``privacy_mitigation`` and ``extraction_study``). The top
layer beside ``recipes``: an experiment may import every other subpackage, the shipped models' recipes included;
nothing in the library imports an experiment.
"""
