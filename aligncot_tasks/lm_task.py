"""The lm-eval task class every suite YAML names: ``class: !function aligncot_tasks.lm_task.SuiteTask``.

lm-eval calls ``doc_to_text(doc)`` and ``process_results(doc, results)`` without saying which
task they are for; a task *class* does know (``config["task"]``), so :class:`SuiteTask` looks
its :class:`~aligncot_tasks.suite.TaskSpec` up in the one table and wires the rows to
:mod:`aligncot_tasks.suite` -- no per-task entry points, no made-up attribute names.

Generative tasks score in an lm-eval filter, :class:`ScoreFilter`: it hands every full
generation to the suite's scorer and writes one verdict per generation into
``filtered_resps`` (``{"extracted", "correct", "truncated"}``, plus ``"cued"`` for numeric
answers; see
:mod:`aligncot_tasks.lm_metrics`), so samples files show what was read from each answer.

**How ``truncated`` is known.** lm-eval's ``generate_until`` returns only text: the stop
reason is dropped. A generation ran into the cap exactly when the model produced
``max_gen_toks`` tokens, so the filter re-encodes generations that yielded no answer with the
evaluated model's own tokenizer and counts them: ``truncated`` = no answer and at least
``max_gen_toks`` tokens, where ``max_gen_toks`` is the task's effective budget (after
``--gen_kwargs``). The tokenizer is found the way lm-eval's own RULER tasks find it, in the
task metadata that ``lm_eval`` fills from ``--model_args`` (``tokenizer``, else
``pretrained`` with its ``gguf_file``); callers that build their own ``TaskManager`` pass
``metadata=<model args>``. Without one, ``truncated`` is not reported (never guessed).
Re-encoding decoded text could in principle merge tokens the model wrote apart; measured on
SmolLM2-135M (``tests/benchmarks/measure_reencode.py``: 27 capped generations, greedy and
sampled) the count was exact every time, so no slack is allowed. A partial UTF-8 character
decodes to U+FFFD and is counted as one token; special tokens other than EOS are not counted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from functools import cache, partial
from typing import TYPE_CHECKING, Any

from lm_eval.api.filter import Filter, FilterEnsemble
from lm_eval.api.task import ConfigurableTask

from aligncot_tasks import suite
from aligncot_tasks.groups import CHANCE_METRIC, task_metrics
from aligncot_tasks.lm_metrics import chance_normalised, metric_list, row_metrics, verdict
from aligncot_tasks.types import Doc

if TYPE_CHECKING:
    from lm_eval.api.instance import Instance
    from transformers import PreTrainedTokenizerBase

log = logging.getLogger(__name__)

#: What decoding writes for bytes that are not a whole UTF-8 character.
REPLACEMENT_CHAR = "\ufffd"
#: Name of the task's one filter (lm-eval's default name: metrics read ``acc,none``).
FILTER_NAME = "none"


@cache
def _tokenizer(name: str, gguf_file: str | None) -> PreTrainedTokenizerBase:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(name, **({"gguf_file": gguf_file} if gguf_file else {}))


def token_counter(metadata: dict[str, Any] | None) -> Callable[[str], int] | None:
    """``text -> number of tokens`` with the evaluated model's tokenizer named in lm-eval's
    task metadata, or None when the metadata names none (or it cannot be loaded)."""
    metadata = metadata or {}
    name = metadata.get("tokenizer") or metadata.get("pretrained")
    if not isinstance(name, str):
        return None
    gguf = None if metadata.get("tokenizer") else metadata.get("gguf_file")
    try:
        tok = _tokenizer(name, gguf)
    except Exception as e:  # any loading failure means "unknown", never a failed run
        log.warning("aligncot: cannot load tokenizer %r (%s); `truncated` is not reported", name, e)
        return None

    def count(text: str) -> int:
        # A token that ended inside a multi-byte character decodes to U+FFFD, whose own
        # encoding is several byte tokens: count each as the one token it stands for.
        return len(tok(text.replace(REPLACEMENT_CHAR, ""), add_special_tokens=False)["input_ids"]) + text.count(
            REPLACEMENT_CHAR
        )

    return count


class ScoreFilter(Filter):  # type: ignore[misc]  # lm_eval is not followed (pyproject's [tool.mypy])
    """lm-eval filter: each generation -> the suite scorer's verdict on the full text.

    Args:
        spec: The task whose rows are scored.
        max_gen_toks: The generation budget in tokens (None: unknown).
        count_tokens: ``text -> tokens`` of the evaluated model (None: unknown).
    """

    def __init__(
        self, spec: suite.TaskSpec, max_gen_toks: int | None = None, count_tokens: Callable[[str], int] | None = None
    ) -> None:
        self.spec, self.max_gen_toks, self.count_tokens = spec, max_gen_toks, count_tokens

    def capped(self, text: str) -> bool | None:
        """Whether ``text`` used the whole budget; None when that cannot be measured."""
        if self.count_tokens is None or self.max_gen_toks is None:
            return None
        return self.count_tokens(text) >= self.max_gen_toks

    def one(self, doc: Doc, text: object) -> dict[str, Any]:
        """The verdict on one full generation of ``doc``'s question."""
        s = suite.score(self.spec, doc, text)
        truncated = False if s.extracted is not None else self.capped(text if isinstance(text, str) else "")
        return verdict(s.extracted, s.correct, truncated, s.cued)

    def apply(self, resps: Iterable[Sequence[object]], docs: Iterable[Doc]) -> list[list[dict[str, Any]]]:
        """lm-eval's filter step: per instance, its list of generations -> their verdicts."""
        return [[self.one(doc, text) for text in texts] for texts, doc in zip(resps, docs, strict=True)]


class SuiteTask(ConfigurableTask):  # type: ignore[misc]  # as ScoreFilter
    """A suite task: prompt, gold and scoring of the table entry named by ``config["task"]``."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        config = {k: v for k, v in (config or {}).items() if k != "class"}  # lm-eval's routing key
        self.spec = suite.get_task(config["task"])
        config = {**self._row_functions(), **config}
        if self.spec.samples > 1:  # metric names follow the number of samples actually drawn
            config["metric_list"] = metric_list(task_metrics(self.spec, config.get("repeats")))
        super().__init__(config=config)

    def _row_functions(self) -> dict[str, Callable[..., Any]]:
        spec = self.spec
        fns: dict[str, Callable[..., Any]] = {
            "doc_to_text": partial(suite.prompt_text, spec),
            "process_results": self.score_row,
        }
        if spec.variant == suite.LL:
            fns["doc_to_choice"] = lambda doc: list(suite.item(spec, doc).letters)
            fns["doc_to_target"] = lambda doc: suite.item(spec, doc).gold_index
        else:
            fns["doc_to_target"] = lambda doc: suite.item(spec, doc).gold
        return fns

    def apply_filters(self) -> list[Instance] | None:
        """Score with :class:`ScoreFilter`, built now: ``--gen_kwargs`` may have changed the budget."""
        if self.OUTPUT_TYPE == "generate_until":
            budget = (self.config.generation_kwargs or {}).get("max_gen_toks")
            filt = partial(ScoreFilter, self.spec, budget, token_counter(self.config.metadata))
            self._filters = [FilterEnsemble(FILTER_NAME, [filt])]
        instances: list[Instance] | None = super().apply_filters()
        return instances

    def score_row(self, doc: Doc, results: list[Any]) -> dict[str, float]:
        """``process_results``: generative rows get their verdicts, ``ll`` rows (ll, greedy) pairs."""
        chance = suite.chance(self.spec, doc)
        if self.spec.variant == suite.LL:
            lls = [ll for ll, _ in results]
            acc = float(lls.index(max(lls)) == suite.item(self.spec, doc).gold_index)
            assert chance is not None  # ll rows have lettered options
            return {"acc": acc, CHANCE_METRIC: chance_normalised(acc, chance)}
        return row_metrics(results[0], chance)
