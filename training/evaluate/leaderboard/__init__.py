"""The leaderboard: results files -> :mod:`.board` -> Markdown/CSV/HTML (:mod:`.render`) and charts."""
