"""Entry points the task YAMLs name with ``!function aligncot_tasks.hooks.<name>``.

lm-eval calls ``doc_to_text(doc)`` / ``process_results(doc, results)`` without saying which
task they are for, so the task-specific part travels in the attribute name and is resolved
here (PEP 562 module ``__getattr__``) into a thin closure over :mod:`aligncot_tasks.suite`.
No logic lives here; the names are:

- ``prompt__<benchmark>``: ``doc_to_text`` -- :func:`aligncot_tasks.suite.prompt_text`.
- ``gold__<benchmark>``: ``doc_to_target`` (generation tasks; shown in samples files).
- ``letters__<benchmark>`` / ``gold_index__<benchmark>``: ``doc_to_choice`` /
  ``doc_to_target`` of the log-likelihood (``ll``) tasks.
- ``score__<benchmark>__<variant>__<answer type>``: ``process_results`` -> ``acc`` and
  ``invalid`` (1.0 when no answer could be extracted).
"""

from __future__ import annotations

from collections.abc import Callable

from aligncot_tasks import scoring
from aligncot_tasks.items import ADAPTERS
from aligncot_tasks.prompts import question_prompt


def _hook(name: str) -> Callable:
    role, _, rest = name.partition("__")
    key, *spec = rest.split("__")
    adapter = ADAPTERS[key]
    if role == "prompt" and not spec:

        def hook(doc: dict) -> str:
            it = adapter(doc)
            return question_prompt(it.question, it.options)

    elif role == "gold" and not spec:

        def hook(doc: dict) -> str:
            return adapter(doc).gold

    elif role == "letters" and not spec:

        def hook(doc: dict) -> list[str]:
            return list(adapter(doc).letters)

    elif role == "gold_index" and not spec:

        def hook(doc: dict) -> int:
            return adapter(doc).gold_index

    elif role == "score" and len(spec) == 2:
        variant, answer_type = spec
        scoring.answer_module(answer_type)  # fail at YAML load time on a typo, not per row

        def hook(doc: dict, results: list[str]) -> dict[str, float]:
            s = scoring.score(answer_type, results[0] if results else None, adapter(doc), variant)
            return {"acc": float(s.correct), "invalid": float(s.extracted is None)}

    else:
        raise AttributeError(name)
    hook.__name__ = hook.__qualname__ = name
    return hook


def __getattr__(name: str) -> Callable:
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        fn = _hook(name)
    except (KeyError, ValueError) as e:
        raise AttributeError(f"aligncot_tasks.hooks has no hook {name!r} ({e})") from None
    globals()[name] = fn  # cache: one closure per name
    return fn
