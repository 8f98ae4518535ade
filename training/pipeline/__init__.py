"""``aligncot run``: a recipe (:mod:`.recipe`) -> stages run as subprocesses, resumable (:mod:`.stages`, :mod:`.run`)."""
