"""The self-refine keys of a DPO recipe: pair kind, sampling, rounds, evaluation cap, loss mix.

Checked when the recipe is read (``DPORecipe.__post_init__``), before any model loads: each bad
value is one :class:`~training.errors.UserError` line naming the key, and nothing is written.
trl's own ``loss_type`` / ``loss_weights`` are checked here too (trl would only fail at the
first training step, or with a multi-line message).
"""

from __future__ import annotations

from training.errors import UserError

#: Self-refine preference pair kinds (training/distill/preference_pairs.py, pairs_sampled.py).
PAIR_KINDS = ("cot_vs_direct", "correct_vs_incorrect")


def check_self_refine(r) -> None:
    """The self-refine keys of a DPO recipe, checked before any model loads (one line each).

    Args:
        r: A :class:`training.distill.recipes.DPORecipe` (before trl's own ``__post_init__``).

    >>> from types import SimpleNamespace as R
    >>> check_self_refine(R(pairs="cot_vs_direct", rounds=0))
    Traceback (most recent call last):
    training.errors.UserError: recipe key 'rounds' must be >= 1, got 0
    """
    if r.pairs not in PAIR_KINDS:
        raise UserError(f"recipe key 'pairs' must be one of {', '.join(PAIR_KINDS)}, got {r.pairs!r}")
    if r.rounds < 1:
        raise UserError(f"recipe key 'rounds' must be >= 1, got {r.rounds!r}")
    if r.max_eval_pairs is not None and r.max_eval_pairs < 1:
        raise UserError(f"recipe key 'max_eval_pairs' must be >= 1, got {r.max_eval_pairs!r}")
    if r.pairs == "correct_vs_incorrect":
        if r.samples_per_question < 2:
            raise UserError(
                f"recipe key 'samples_per_question' must be >= 2 for correct_vs_incorrect pairs, got {r.samples_per_question!r}"
            )
        if r.max_pairs_per_question < 1:
            raise UserError(f"recipe key 'max_pairs_per_question' must be >= 1, got {r.max_pairs_per_question!r}")
        if not r.temperature > 0:
            raise UserError(
                f"recipe key 'temperature' must be > 0 for sampled (correct_vs_incorrect) pairs, got {r.temperature!r}"
            )
        if r.generation_backend == "vllm":  # the one vLLM path decodes greedily
            raise UserError(
                "generation_backend=vllm samples greedily only; use hf (or auto) for correct_vs_incorrect pairs"
            )
    if r.rounds > 1 and r.pairs_dir:
        raise UserError(
            "recipe key 'pairs_dir' applies to one round; with rounds > 1 each round keeps its pairs in <output_dir>.rounds"
        )
    types = [r.loss_type] if isinstance(r.loss_type, str) else list(r.loss_type)
    if r.loss_weights is not None:
        if len(r.loss_weights) != len(types):
            raise UserError(
                f"recipe key 'loss_weights' must give one weight per loss_type ({len(types)}), got {len(r.loss_weights)}"
            )
        if negative := [w for w in r.loss_weights if w < 0]:
            raise UserError(f"recipe key 'loss_weights' must be >= 0, got {negative[0]!r}")
