"""Evaluation: completeness, rubric scores, decisions and integrity findings, as pure table
functions (``scoring.evaluation.evaluate`` is the entry point). Importing the package costs
nothing: the rubric (config models) is read at every start, pandas only when evaluating."""
