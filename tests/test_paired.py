"""Paired significance: exact McNemar against scipy and a hand-computed case, the bootstrap
against plain index resampling, pairing by doc_id + doc_hash."""

from __future__ import annotations

import numpy as np
import pytest
from samples_support import csqa_doc, sample

from training.errors import ResultsError
from training.evaluate import paired
from training.evaluate.samples import pair, parse_sample


def test_hand_computed_case():
    # 10 questions: A right & B wrong on 1, B right & A wrong on 5, 4 concordant.
    a = [1, 0, 0, 0, 0, 0, 1, 1, 0, 0]
    b = [0, 1, 1, 1, 1, 1, 1, 1, 0, 0]
    r = paired.compare(a, b)
    assert (r.n, r.only_a, r.only_b) == (10, 1, 5)
    assert r.delta == pytest.approx(0.3 - 0.7)
    # P[X <= 1], X ~ Bin(6, 1/2) = (1 + 6) / 64; two-sided doubles it.
    assert r.p == pytest.approx(14 / 64)
    assert not r.significant
    assert r.ci[0] <= r.delta <= r.ci[1]


@pytest.mark.parametrize(
    "only_a, only_b", [(0, 1), (1, 9), (3, 3), (10, 25), (7, 0), (120, 160), (2000, 2150), (40, 5000)]
)
def test_mcnemar_equals_scipy_exact_binomial(only_a, only_b):
    from scipy.stats import binomtest

    expected = binomtest(min(only_a, only_b), only_a + only_b, 0.5, alternative="two-sided").pvalue
    assert paired.mcnemar_exact(only_a, only_b) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_bootstrap_is_seeded_and_matches_index_resampling():
    rng = np.random.default_rng(7)
    a = rng.random(400) < 0.6
    b = np.where(rng.random(400) < 0.8, a, ~a)  # correlated, as two models on one test set are
    r1, r2 = paired.compare(a, b), paired.compare(a, b)
    assert r1.ci == r2.ci  # same seed, same interval
    # The multinomial shortcut has the distribution of resampling question indices.
    idx = np.random.default_rng(3).integers(0, 400, size=(10_000, 400))
    naive = np.quantile((a[idx].astype(float) - b[idx]).mean(axis=1), [0.025, 0.975])
    assert r1.ci == pytest.approx(tuple(naive), abs=0.006)
    assert r1.ci[0] < r1.delta < r1.ci[1]


def test_pairing_uses_doc_id_and_doc_hash():
    task = "aligncot_csqa_cot"
    a = [parse_sample(task, sample(task, i, csqa_doc(i), "c")) for i in range(4)]
    b = [parse_sample(task, sample(task, i, csqa_doc(i), "w")) for i in (1, 2, 3, 4)]
    x, y, unpaired = pair(a, b)
    assert (x, y, unpaired) == ([True] * 3, [False] * 3, 2)
    other = [parse_sample(task, sample(task, 2, csqa_doc(99), "c"))]  # same doc_id, another document
    with pytest.raises(ResultsError, match="doc_id 2: the two runs hold different documents"):
        pair(a, other)


def test_maj_task_sample_with_votes_and_shares():
    task = "aligncot_gsm8k_cot_maj4"
    votes = [
        {"extracted": "3", "correct": False, "truncated": False},
        {"extracted": None, "correct": False, "truncated": True},
        {"extracted": "4", "correct": True, "truncated": False},
        {"extracted": "4", "correct": True, "truncated": False},
    ]
    row = {
        "doc_id": 5,
        "doc": {"question": "q", "answer": "#### 4"},
        "resps": [["a", "b", "c", "d"]],
        "filtered_resps": [votes],
        "maj@4": 1.0,
        "pass@4": 1.0,
        "acc": 0.5,
        "invalid": 0.25,
        "truncated": 0.25,
        "target": "4",
    }
    s = parse_sample(task, row)
    assert (s.correct, s.invalid, s.truncated, s.extracted, len(s.generations)) == (True, False, False, "3, —, 4, 4", 4)
