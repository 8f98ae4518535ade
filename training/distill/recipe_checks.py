"""Trainer recipe values refused when the recipe is read, before any model loads.

trl's config classes take values that train nothing or fail only later: :func:`check_ranges`
(both trainers: epochs, learning rate, batch sizes, ``max_length``) and
:func:`check_self_refine` (a DPO recipe's pair kind, sampling, rounds, evaluation cap and loss
mix; trl's own ``loss_type`` / ``loss_weights`` would only fail at the first training step, or
with a multi-line message). Each bad value is one :class:`~training.errors.UserError` line
naming the key, and nothing is written.
"""

from __future__ import annotations

import typing

from training.errors import UserError

if typing.TYPE_CHECKING:  # recipes import trl
    from training.distill.recipes import DPORecipe, SFTRecipe

#: Self-refine training data kinds (training/distill/preference_pairs.py, pairs_sampled.py,
#: correct_samples.py): two kinds of preference pairs, and correct answers for the NLL loss alone.
PAIR_KINDS = ("cot_vs_direct", "correct_vs_incorrect", "correct_samples")
#: The kinds built from sampled answers.
SAMPLED_KINDS = ("correct_vs_incorrect", "correct_samples")
#: Values of ``balance_pairs`` (training/distill/pair_balance.py).
PAIR_BALANCES = ("none", "chosen", "both")


def choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    """Refuse ``value`` of recipe key ``name`` unless it is one of ``allowed``."""
    if value not in allowed:
        raise UserError(f"recipe key {name!r} must be one of {', '.join(allowed)}, got {value!r}")


#: Shortest ``max_length`` accepted: below it no prompt and answer fit (trl takes any int).
MIN_MAX_LENGTH = 16


def check_ranges(train: SFTRecipe | DPORecipe, where: str, prefix: str = "") -> None:
    """Refuse values the trainer config accepts but that train nothing or crash later.

    trl and transformers take a negative ``num_train_epochs`` (0 steps, "success"), a
    negative ``learning_rate``, a zero batch size and a tiny ``max_length``; each is one
    line here, before any model is loaded.

    Args:
        train: A parsed recipe.
        where: The recipe's file (or "command line"), first in the message.
        prefix: Section of a pipeline recipe the keys sit in (``"sft."``), so the message names the key as written.

    Raises:
        UserError: Naming the first key out of range.

    >>> from training.distill.recipes import SFTRecipe
    >>> check_ranges(SFTRecipe(output_dir="o", num_train_epochs=-1), "r.yaml", "sft.")
    Traceback (most recent call last):
    training.errors.UserError: r.yaml: recipe key 'sft.num_train_epochs' must be > 0 (or set max_steps), got -1
    """
    max_length = getattr(train, "max_length", None)
    bad = [
        (
            "num_train_epochs",
            "> 0 (or set max_steps)",
            train.num_train_epochs <= 0 and not (train.max_steps and train.max_steps > 0),
        ),
        ("learning_rate", ">= 0", train.learning_rate < 0),
        ("per_device_train_batch_size", ">= 1", train.per_device_train_batch_size < 1),
        ("per_device_eval_batch_size", ">= 1", train.per_device_eval_batch_size < 1),
        ("gradient_accumulation_steps", ">= 1", train.gradient_accumulation_steps < 1),
        ("max_length", f">= {MIN_MAX_LENGTH}", max_length is not None and max_length < MIN_MAX_LENGTH),
    ]
    for key, rule, failed in bad:
        if failed:
            value = getattr(train, key)
            shown = int(value) if isinstance(value, float) and value.is_integer() else value
            raise UserError(f"{where}: recipe key {prefix + key!r} must be {rule}, got {shown!r}")


def check_self_refine(r) -> None:
    """The self-refine keys of a DPO recipe, checked before any model loads (one line each).

    Args:
        r: A :class:`training.distill.recipes.DPORecipe` (before trl's own ``__post_init__``).

    >>> from types import SimpleNamespace as R
    >>> check_self_refine(R(pairs="cot_vs_direct", rounds=0))
    Traceback (most recent call last):
    training.errors.UserError: recipe key 'rounds' must be >= 1, got 0
    """
    choice("pairs", r.pairs, PAIR_KINDS)
    if r.rounds < 1:
        raise UserError(f"recipe key 'rounds' must be >= 1, got {r.rounds!r}")
    if r.max_eval_pairs is not None and r.max_eval_pairs < 1:
        raise UserError(f"recipe key 'max_eval_pairs' must be >= 1, got {r.max_eval_pairs!r}")
    if r.pairs in SAMPLED_KINDS:
        _check_sampling(r)
    choice("balance_pairs", r.balance_pairs, PAIR_BALANCES)
    if r.min_correct_samples != 1:
        if r.pairs not in SAMPLED_KINDS:
            raise UserError("recipe key 'min_correct_samples' applies to correct_vs_incorrect and correct_samples only")
        # a pair needs an incorrect answer too, so samples_per_question correct ones give none
        most = r.samples_per_question - (r.pairs == "correct_vs_incorrect")
        if not 1 <= r.min_correct_samples <= most:
            raise UserError(
                f"recipe key 'min_correct_samples' must be between 1 and {most} for {r.pairs}, got {r.min_correct_samples!r}"
            )
    if r.balance_pairs != "none" and r.pairs != "correct_vs_incorrect":
        raise UserError("recipe key 'balance_pairs' applies to correct_vs_incorrect pairs only")
    if r.rounds > 1 and r.pairs_dir:
        raise UserError(
            "recipe key 'pairs_dir' applies to one round; with rounds > 1 each round keeps its pairs in <output_dir>.rounds"
        )
    types = loss_types(r)
    if r.loss_weights is not None:
        if len(r.loss_weights) != len(types):
            raise UserError(
                f"recipe key 'loss_weights' must give one weight per loss_type ({len(types)}), got {len(r.loss_weights)}"
            )
        if negative := [w for w in r.loss_weights if w < 0]:
            raise UserError(f"recipe key 'loss_weights' must be >= 0, got {negative[0]!r}")
    if r.pairs == "correct_samples" and not nll_alone(r):
        # the rows have no rejected answer, and the NLL loss alone has no other term to weigh
        raise UserError(
            f"correct_samples rows train with the NLL loss alone: set loss_type=[sft] and loss_weights=[1.0] "
            f"(got {types}, {r.loss_weights})"
        )


def loss_types(r) -> list[str]:
    """A recipe's ``loss_type`` as a list (trl takes one name or a list).

    >>> from types import SimpleNamespace as R
    >>> loss_types(R(loss_type="sigmoid")), loss_types(R(loss_type=("sigmoid", "sft")))
    (['sigmoid'], ['sigmoid', 'sft'])
    """
    return [r.loss_type] if isinstance(r.loss_type, str) else list(r.loss_type)


def nll_alone(r) -> bool:
    """Whether a recipe's loss is the NLL term alone at weight 1 (``loss_type: [sft]``).

    >>> from types import SimpleNamespace as R
    >>> nll_alone(R(loss_type=["sft"], loss_weights=None)), nll_alone(R(loss_type=["sft"], loss_weights=[0.5]))
    (True, False)
    """
    return loss_types(r) == ["sft"] and r.loss_weights in (None, [1.0])


def _check_sampling(r) -> None:
    """The keys of the sampled kinds (``correct_vs_incorrect``, ``correct_samples``)."""
    least = 2 if r.pairs == "correct_vs_incorrect" else 1  # a pair needs a correct and an incorrect answer
    if r.samples_per_question < least:
        raise UserError(
            f"recipe key 'samples_per_question' must be >= {least} for {r.pairs}, got {r.samples_per_question!r}"
        )
    if r.max_pairs_per_question < 1:
        raise UserError(f"recipe key 'max_pairs_per_question' must be >= 1, got {r.max_pairs_per_question!r}")
    if not r.temperature > 0:
        raise UserError(f"recipe key 'temperature' must be > 0 for sampled ({r.pairs}) answers, got {r.temperature!r}")
    if r.generation_backend == "vllm":  # the one vLLM path decodes greedily
        raise UserError(f"generation_backend=vllm samples greedily only; use hf (or auto) for {r.pairs}")
