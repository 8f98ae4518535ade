"""BIG-Bench Hard answer types: one module per type, one reading pipeline for all.

BBH targets come in seven shapes (see ``aligncot_tasks.suite.BBH_SUBTASKS``): an option
letter ``(B)`` (:mod:`.choice`), ``True``/``False`` (:mod:`.truth`), ``Yes``/``No``
(:mod:`.yesno`), ``valid``/``invalid`` (:mod:`.validity`), an integer (:mod:`.integer`),
sorted words (:mod:`.words`) and a closing bracket sequence (:mod:`.dyck`). Each module only
says what an answer of its shape looks like (a :class:`._reader.Reader`); *where* in a
generation the committed answer sits is decided once, in :func:`._reader.committed`.
Every type's canonical sentence is the BBH exemplars' ``So the answer is <target>.``
"""
