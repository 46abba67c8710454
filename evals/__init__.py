"""Evaluation tools for QMD expansion models: a query set, reports and paired comparisons.

Everything here reads eval result files (``{"query", "expansion"}`` lines) and scores them with
:class:`qmd_reward.Scorer`; nothing imports torch.
"""
