"""Evaluation: the model x task matrix over lm-eval (:mod:`.matrix`, :mod:`.config`) and the leaderboard."""
