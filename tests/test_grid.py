"""Grid recipes (``variants:``): validation before any stage, the run's layout, Holm in the leaderboard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from training.errors import RecipeError
from training.evaluate.leaderboard.board import build_board
from training.evaluate.leaderboard.tables import tables
from training.evaluate.paired import holm
from training.pipeline.cli import run
from training.pipeline.grid import Grid, load
from training.pipeline.grid_run import GridRun

ROOT = Path(__file__).resolve().parents[1]
ABLATIONS = ROOT / "harness_configs" / "experiments" / "csqa_ablations.yaml"
TEACHERS = ROOT / "training" / "data" / "teachers"


def grid_file(tmp_path: Path, variants: object, reference: object = None, **base) -> Path:
    """The demo recipe as a grid with these variants."""
    raw = yaml.safe_load((ROOT / "harness_configs" / "pipeline" / "demo.yaml").read_text())
    raw.update(variants=variants, **base)
    if reference is not None:
        raw["reference"] = reference
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_csqa_ablations_grid_plans_shared_and_per_variant_stages(tmp_path):
    grid, _ = load(ABLATIONS)
    assert isinstance(grid, Grid) and grid.reference == "cot-truthful"
    assert list(grid.variants) == [
        "cot-truthful",
        "answer-truthful",
        "cot-all",
        "cot-misleading",
        "cot-truthful-500",
        "cot-truthful-1000",
        "cot-llama-3-70b",
        "cot-gemini-1.5-flash",
    ]
    runner = GridRun(grid, tmp_path / "g")
    assert [s.name for s in runner.shared.stages()] == ["models", "annotate", "eval-base"]
    base_models = [m["name"] for m in runner.shared.eval_config(None)["models"]]
    assert base_models == ["student-base"]  # the recorded PaLM row is scored, not evaluated
    for name, recipe in grid.variants.items():
        v = runner.variant(name)
        own_teacher = name in ("cot-llama-3-70b", "cot-gemini-1.5-flash")
        assert [s.name for s in v.stages()] == ["annotate"] * own_teacher + ["demos", "sft", "eval"]
        assert v.annotation_dir("aligncot_csqa_cot").parent.parent == (v.run_dir if own_teacher else runner.root)
        assert [m["name"] for m in v.eval_config(None)["models"]] == [name]  # SFT only: self_refine null
        assert recipe.eval.limit == 300 and recipe.eval.tasks == ("aligncot_csqa_cot", "aligncot_obqa_cot")
        assert recipe.sft["recipe"].endswith("smollm2-135m-instruct/sft.yaml")
    sizes = {n: grid.variants[n].demos.balance for n in ("cot-truthful", "cot-truthful-500", "cot-truthful-1000")}
    assert sizes == {"cot-truthful": 2000, "cot-truthful-500": 500, "cot-truthful-1000": 1000}
    assert (grid.variants["answer-truthful"].demos.style, grid.variants["cot-misleading"].demos.kind) == (
        "answer",
        "misleading",
    )


def test_teacher_slices_are_the_shipped_palm_questions():
    def ids(name: str) -> list[str]:
        return [json.loads(line)["doc"]["id"] for line in (TEACHERS / name).open()]

    palm = ids("csqa_palm-540b_train.jsonl")
    for teacher in ("llama-3-70b", "gemini-1.5-flash"):
        rows = ids(f"csqa_{teacher}_train.jsonl")
        assert len(rows) >= 1990 and len(set(rows)) == len(rows)
        assert rows == [i for i in palm if i in set(rows)]  # the same questions, in PaLM's order
        assert teacher in (TEACHERS / "NOTICE.md").read_text().lower()


@pytest.mark.parametrize(
    ("variants", "reference", "message"),
    [
        ([{"name": "a", "set": {"demos.styl": "cot"}}], None, r"variants\.a.*styl"),
        ([{"name": "a", "set": {"demos.balance": "many"}}], None, r"variants\.a.*demos\.balance"),
        ([{"name": "a", "set": {"sft.learnin_rate": 0.1}}], None, r"variants\.a: unknown key 'sft\.learnin_rate'"),
        ([{"name": "a", "set": {"sft.num_train_epochs": "x"}}], None, r"variants\.a: key 'sft\.num_train_epochs'"),
        ([{"name": "a"}, {"name": "a", "set": {"demos.kind": "all"}}], None, "two variants named 'a'"),
        ([{"name": "a"}, {"name": "b"}], "c", "reference 'c' is not a variant; variants: a, b"),
        ([{"name": "a", "set": {"eval.limit": 3}}], None, r"variants\.a\.set\.eval\.limit: shared by every variant"),
        ([{"name": "a/b"}], None, "not a usable name"),
        ([{"name": "a", "sett": {}}], None, r"variants\[0\]: expected"),
        ([], None, "variants: expected a list"),
    ],
)
def test_bad_grids_are_one_line_before_any_stage(tmp_path, variants, reference, message):
    path = grid_file(tmp_path, variants, reference)
    with pytest.raises(RecipeError, match=message) as e:
        load(path)
    assert "\n" not in str(e.value)
    out = CliRunner().invoke(run, [str(path), "--run-dir", str(tmp_path / "run")])
    assert out.exit_code == 1 and out.output.count("\n") == 1 and "Error:" in out.output
    assert not (tmp_path / "run").exists()


def test_variant_option_names_a_variant_and_needs_a_grid(tmp_path):
    path = grid_file(tmp_path, [{"name": "a"}])
    out = CliRunner().invoke(run, [str(path), "--run-dir", str(tmp_path / "run"), "--variant", "b"])
    assert out.exit_code == 1 and "--variant 'b': variants are a" in out.output
    out = CliRunner().invoke(run, ["demo", "--run-dir", str(tmp_path / "run2"), "--variant", "a"])
    assert out.exit_code == 1 and "not a grid recipe" in out.output


def test_holm_table_says_which_p_values_are_adjusted(tmp_path):
    from samples_support import csqa_lines, write_run

    write_run(tmp_path / "r", "base", {"aligncot_csqa_cot": csqa_lines("wwwwwwwwwwwwwwwwwwcc")})
    write_run(tmp_path / "r", "ref", {"aligncot_csqa_cot": csqa_lines("ccccccwwwwwwwwwwwwcc")})
    write_run(tmp_path / "r", "other", {"aligncot_csqa_cot": csqa_lines("ccccccccccccccwwwwcc")})
    board = build_board([tmp_path / "r"])
    plain = {t.id: t for t in tables(board, "base", reference="ref")}
    adjusted = {t.id: t for t in tables(board, "base", reference="ref", adjust="holm")}
    assert set(adjusted) >= {"delta", "delta_reference"}
    pairs = [("ref", "base"), ("other", "base"), ("base", "ref"), ("other", "ref")]
    raw = [board.paired(a, b, ("csqa", "cot")).p for a, b in pairs]
    expected = dict(zip(pairs, holm(raw)))
    for table, against in (("delta", "base"), ("delta_reference", "ref")):
        assert "p_holm = Holm-adjusted over all 4 paired tests" in adjusted[table].footnote
        assert "no multiple-comparison correction" in plain[table].footnote
        for row, cells in adjusted[table].rows:
            text = cells[1].text
            assert f"p_holm={expected[(row, against)]:.2g}" in text
            assert cells[1].significant == (expected[(row, against)] < 0.05)
    plain_cells = dict(plain["delta"].rows)
    assert "p=" in plain_cells["other"][1].text and "p_holm" not in plain_cells["other"][1].text
