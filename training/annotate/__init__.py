"""Teacher annotation (``aligncot annotate``): a teacher answers a task's training questions.

An annotation directory ``DIR`` holds:

- ``annotations.db``: the SQLite store (WAL), one row per finished (question, sample),
  committed as it arrives, keyed by a hash of backend, model, full prompt, generation
  parameters and sample index. Rerunning the same command skips every stored key.
- ``annotations.jsonl``: its export (written at the end of a run, or by ``--export``), one
  line per (question, sample), ordered by task, ``doc_id`` and ``sample``, with ``key``,
  ``task`` (the suite task whose prompt and scorer were used), ``doc_id``
  (``<split>-<index>-<row hash>``), ``sample``, ``doc`` (the row, hub schema), ``prompt``
  (the text sent, or the chat messages), ``completion`` (the teacher's text, cut at the
  task's stop sequences), ``finish_reason`` (``length``: truncated at ``--max-tokens``),
  ``prompt_tokens``, ``completion_tokens``, ``extracted`` / ``gold`` / ``correct`` (the
  suite's scorer), ``backend``, ``model``, ``attempts``, ``started_at``, ``finished_at``.

Requests that still fail after their last attempt are kept in the store's ``failures``
table and retried by the next run; they are not exported.

Modules: :mod:`.jobs` (what to ask), :mod:`.store`, :mod:`.backends` (openai, hf, vllm),
:mod:`.run` (the loop), :mod:`.cli`.
"""
