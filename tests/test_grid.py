"""Grid recipes (``variants:``): validation before any stage, the run's layout, Holm in the leaderboard."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from test_models import needs_wheel

from training.errors import RecipeError
from training.evaluate.leaderboard.board import build_board
from training.evaluate.leaderboard.tables import tables
from training.evaluate.paired import holm
from training.pipeline.cli import run
from training.pipeline.grid import Grid, load
from training.pipeline.grid_run import GridRun

ROOT = Path(__file__).resolve().parents[1]
ABLATIONS = ROOT / "harness_configs" / "experiments" / "csqa_ablations.yaml"
FAMILY = ROOT / "harness_configs" / "experiments" / "csqa_family_gemma-3-270m.yaml"
MATHS = ROOT / "harness_configs" / "experiments" / "gsm8k_smollm2-135m-instruct.yaml"
DOMAINS = ROOT / "harness_configs" / "experiments" / "domains_smollm2-135m-instruct_gemini.yaml"
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


def test_gemma_family_grid_trains_the_base_model_on_plain_prompts_from_two_teachers(tmp_path):
    """Issue 21's family grid: Gemini (in family, the reference, imported once) against Llama (its own import)."""
    grid, _ = load(FAMILY)
    assert grid.reference == "cot-gemini-1.5-flash" and list(grid.variants) == [
        "cot-gemini-1.5-flash",
        "cot-llama-3-70b",
    ]
    runner = GridRun(grid, tmp_path / "g")
    assert [s.name for s in runner.shared.stages()] == ["models", "annotate", "eval-base"]
    (base,) = runner.shared.eval_config(None)["models"]
    assert base["name"] == "student-base" and base["chat_template"] is False  # a base model: the plain prompt
    assert base["pretrained"].endswith("gemma-3-270m")
    teachers = {n: r.teacher.recorded for n, r in grid.variants.items()}
    assert teachers == {
        "cot-gemini-1.5-flash": "builtin:csqa_gemini-1.5-flash_train.jsonl",
        "cot-llama-3-70b": "builtin:csqa_llama-3-70b_train.jsonl",
    }
    for name, recipe in grid.variants.items():
        assert [s.name for s in runner.variant(name).stages()] == ["annotate"] * (name == "cot-llama-3-70b") + [
            "demos",
            "sft",
            "eval",
        ]
        assert recipe.sft["recipe"].endswith("gemma-3-270m/sft.yaml") and recipe.demos.balance == 2000
        assert recipe.eval.tasks == ("aligncot_csqa_cot",) and recipe.eval.limit == 300


def test_maths_grid_imports_one_or_both_teachers(tmp_path):
    """Issue 21's maths grid: Llama (the reference, imported once), Gemini, and both files into one store."""
    grid, _ = load(MATHS)
    assert grid.reference == "cot-llama-3-70b" and list(grid.variants) == [
        "cot-llama-3-70b",
        "cot-gemini-1.5-flash",
        "cot-diverse",
    ]
    runner = GridRun(grid, tmp_path / "g")
    files = {n: grid.variants[n].teacher.recorded_files for n in grid.variants}
    assert files["cot-diverse"] == files["cot-llama-3-70b"] + files["cot-gemini-1.5-flash"]
    imports = runner.variant("cot-diverse").annotate_args("aligncot_gsm8k_cot", None)
    assert [Path(imports[i + 1]).name for i, a in enumerate(imports) if a == "--import"] == [
        "gsm8k_llama-3-70b_train.jsonl",
        "gsm8k_gemini-1.5-flash_train.jsonl",
    ]
    assert grid.base.eval.tasks == (
        "aligncot_gsm8k_cot",
        "aligncot_gsm8k_zs",
        "aligncot_multiarith_cot",
        "aligncot_multiarith_zs",
    )
    assert [s.name for s in runner.variant("cot-llama-3-70b").stages()] == ["demos", "sft", "eval"]


def test_domains_grid_instructs_on_each_domain_then_self_refines_on_it(tmp_path):
    """Issue 21's domains grid: one teacher (Gemini), CSQA or OBQA demonstrations, SFT and SFT+DPO rows each."""
    grid, _ = load(DOMAINS)
    assert grid.reference == "csqa" and list(grid.variants) == ["csqa", "obqa"]
    runner = GridRun(grid, tmp_path / "g")
    for name, recipe in grid.variants.items():
        v = runner.variant(name)
        assert recipe.annotate.tasks == (f"aligncot_{name}_cot",) and recipe.teacher.model == "gemini-1.5-flash"
        assert [m["name"] for m in v.eval_config(None)["models"]] == [f"{name}.sft", name]
        assert "refine-demos" in [s.name for s in v.stages()] and recipe.refine_questions == 300
        assert recipe.self_refine["recipe"].endswith("smollm2-135m-instruct/dpo.yaml")
    assert grid.base.eval.tasks == ("aligncot_csqa_cot", "aligncot_obqa_cot") and grid.base.eval.limit == 300


@pytest.mark.slow
def test_maths_grid_data_stages_give_two_rationales_per_question_to_the_diverse_student(tmp_path):
    """The real maths grid up to its training data, from the shipped slices: the diverse variant's rows are
    both teachers' truthful rationales, whole questions held out."""
    from training.pipeline.stages import run_stages

    grid, _ = load(MATHS)
    runner = GridRun(grid, tmp_path / "g")
    run_stages([s for s in runner.shared.stages() if s.name == "annotate"], runner.root / ".stages", echo=print)
    rows = {}
    for name in grid.variants:
        v = runner.variant(name)
        run_stages([s for s in v.stages() if s.name in ("annotate", "demos")], v.run_dir / ".stages", echo=print)
        rows[name] = {
            part: [json.loads(line) for line in (v.run_dir / "demos" / f"{part}.jsonl").open()]
            for part in ("train", "validation")
        }
    single = {n: {r["doc_id"] for r in rows[n]["train"]} for n in ("cot-llama-3-70b", "cot-gemini-1.5-flash")}
    diverse = rows["cot-diverse"]
    assert all(r["correct"] for r in diverse["train"]) and len(diverse["train"]) > 3800
    per_question = Counter(r["doc_id"] for r in diverse["train"])
    assert set(per_question.values()) <= {1, 2} and sum(n == 2 for n in per_question.values()) > 1850
    assert not set(per_question) & {r["doc_id"] for r in diverse["validation"]}
    assert set(per_question) <= single["cot-llama-3-70b"] | single["cot-gemini-1.5-flash"] | {
        r["doc_id"] for n in single for r in rows[n]["validation"]
    }


@pytest.mark.parametrize("path", [ABLATIONS, FAMILY, MATHS, DOMAINS], ids=lambda p: p.stem)
def test_grid_stage_arguments_are_accepted_by_the_stage_commands(tmp_path, path):
    """Each variant's commands, and the grid's leaderboard (--reference, --adjust), parse with the real commands."""
    import click

    from training.cli import main
    from training.distill import recipes

    grid, _ = load(path)
    runner = GridRun(grid, tmp_path / "g")
    for d in runner.results_dirs():
        d.mkdir(parents=True)
    commands = [runner.leaderboard_args()]
    if grid.base.teacher.recorded_eval:  # a teacher row scored from its recorded answers
        commands.append(runner.shared.score_args())
    for name, recipe in grid.variants.items():
        v = runner.variant(name)
        (task,) = recipe.annotate.tasks
        v.annotation_dir(task).mkdir(parents=True, exist_ok=True)
        commands += [v.annotate_args(task, None), v.demos_args(), v.sft_args()]
        recipes.load_recipe(recipes.SFTRecipe, v.sft_args()[2], v.sft_args()[3:])
    assert commands[0][commands[0].index("--reference") + 1] == grid.reference
    assert commands[0][commands[0].index("--adjust") + 1] == "holm"
    for args in commands:
        with click.Context(main) as ctx:
            main.get_command(ctx, args[0]).make_context(args[0], list(args[1:]))


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
        ([{"name": "a", "set": {"teacher.recorded": []}}], None, r"teacher\.recorded: an empty list"),
        (
            [{"name": "a", "set": {"teacher.recorded": ["builtin:csqa_palm-540b_train.jsonl", "builtin:nope.jsonl"]}}],
            None,
            r"teacher\.recorded: 'builtin:nope\.jsonl': no such file",
        ),
        ([{"name": "a", "set": {"teacher.recorded": [3]}}], None, r"variants\.a.*teacher\.recorded"),
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
    pairs = [("ref", "base"), ("other", "base"), ("other", "ref")]  # base vs ref is one test, in both tables
    raw = [board.paired(a, b, ("csqa", "cot")).p for a, b in pairs]
    expected = {**dict(zip(pairs, holm(raw))), ("base", "ref"): holm(raw)[0]}
    for table, against in (("delta", "base"), ("delta_reference", "ref")):
        assert "p_holm = Holm-adjusted over all 3 distinct paired tests" in adjusted[table].footnote
        assert "no multiple-comparison correction" in plain[table].footnote
        for row, cells in adjusted[table].rows:
            text = cells[1].text
            assert f"p_holm={expected[(row, against)]:.2g}" in text
            assert cells[1].significant == (expected[(row, against)] < 0.05)
    plain_cells = dict(plain["delta"].rows)
    assert "p=" in plain_cells["other"][1].text and "p_holm" not in plain_cells["other"][1].text


@pytest.mark.slow
def test_toy_grid_runs_shared_stages_once_and_resumes_per_variant(tmp_path):
    """The demo's tiny models as a two-variant grid, end to end: one leaderboard, then a resume."""
    import os
    import subprocess
    import sys

    path = grid_file(
        tmp_path,
        [
            {"name": "cot"},
            {"name": "answer", "set": {"demos.style": "answer", "self_refine": None}},
        ],
        "cot",
    )
    run_dir = tmp_path / "run"
    quick = ["--set=eval.limit=4", "--set=sft.num_train_epochs=2", "--set=self_refine.max_steps=2"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}

    def aligncot_run(*extra: str) -> subprocess.CompletedProcess:
        args = [sys.executable, "-m", "training", "run", str(path), "--run-dir", str(run_dir), *quick, *extra]
        proc = subprocess.run(args, capture_output=True, text=True, timeout=1800, env=env, cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return proc

    aligncot_run()
    board = run_dir / "leaderboard"
    rows = {r["model"]: r for r in csv.DictReader((board / "leaderboard.csv").open())}
    assert set(rows) == {"teacher", "student-base", "cot", "cot.sft", "answer"}
    assert all(r["csqa_cot"] != "" for r in rows.values())
    md = (board / "leaderboard.md").read_text()
    assert "Difference to student-base" in md and "Difference to cot" in md and "Holm-adjusted" in md
    assert (run_dir / "annotate" / "aligncot_csqa_cot" / "annotations.jsonl").is_file()
    assert not (run_dir / "cot" / "annotate").exists() and not (run_dir / "answer" / "dpo").exists()
    answer_sft = (run_dir / "answer" / ".stages" / "sft.json").read_text()
    again = aligncot_run()  # everything done: every stage skipped
    assert " running" not in again.stdout and again.stdout.count("-> skipped") == 3 + 4 + 3 + 1
    redo = aligncot_run("--variant", "cot", "--from", "eval")  # one variant's evaluation, then the board
    assert "== answer" not in redo.stdout and (run_dir / "answer" / ".stages" / "sft.json").read_text() == answer_sft
    assert "[1/1] leaderboard: running" in redo.stdout


def test_leaderboard_cli_reference_and_holm_reach_the_csv(tmp_path):
    from samples_support import csqa_lines, write_run

    from training.evaluate.cli import leaderboard

    write_run(tmp_path / "r", "base", {"aligncot_csqa_cot": csqa_lines("wwwwwwwwwwwwwwwwwwcc")})
    write_run(tmp_path / "r", "ref", {"aligncot_csqa_cot": csqa_lines("ccccccwwwwwwwwwwwwcc")})
    write_run(tmp_path / "r", "other", {"aligncot_csqa_cot": csqa_lines("ccccccccccccccwwwwcc")})
    out = tmp_path / "lb"
    args = [str(tmp_path / "r"), "--out-dir", str(out), "--no-charts", "--baseline", "base"]
    result = CliRunner().invoke(leaderboard, [*args, "--reference", "ref", "--adjust", "holm"])
    assert result.exit_code == 0, result.output
    rows = {r["model"]: r for r in csv.DictReader((out / "leaderboard.csv").open())}
    board = build_board([tmp_path / "r"])
    col = ("csqa", "cot")
    pairs = [("ref", "base"), ("other", "base"), ("other", "ref")]
    expected = dict(zip(pairs, holm([board.paired(a, b, col).p for a, b in pairs])))
    assert float(rows["other"]["vs_reference_csqa_cot_p_holm"]) == pytest.approx(expected[("other", "ref")], rel=1e-5)
    assert float(rows["other"]["delta_csqa_cot_p_holm"]) == pytest.approx(expected[("other", "base")], rel=1e-5)
    assert float(rows["other"]["vs_reference_csqa_cot"]) == pytest.approx(0.4)
    assert "Difference to ref" in (out / "leaderboard.html").read_text()
    bad = CliRunner().invoke(leaderboard, [*args, "--reference", "nope"])
    assert bad.exit_code != 0 and "--reference 'nope' is not a row" in bad.output


@pytest.mark.slow
@needs_wheel
def test_csqa_ablations_data_stages_build_each_variants_demonstrations(tmp_path, monkeypatch):
    """The real grid up to its training data: pull, import (PaLM once; Llama, Gemini each), demos."""
    from training.models import registry
    from training.pipeline.stages import run_stages

    monkeypatch.setenv(registry.HOME_ENV, str(tmp_path / "home"))
    grid, _ = load(ABLATIONS)
    runner = GridRun(grid, tmp_path / "g")
    shared = [s for s in runner.shared.stages() if s.name != "eval-base"]
    run_stages(shared, runner.root / ".stages", echo=lambda _: None)

    def train(name: str) -> list[dict]:
        v = runner.variant(name)
        run_stages([s for s in v.stages() if s.name in ("annotate", "demos")], v.run_dir / ".stages", echo=print)
        return [json.loads(line) for line in (v.run_dir / "demos" / "train.jsonl").open()]

    def held_out(names) -> dict[str, list[dict]]:
        files = {n: runner.variant(n).run_dir / "demos" / "validation.jsonl" for n in names}
        return {n: [json.loads(line) for line in f.open()] for n, f in files.items()}

    def questions(rows: list[dict]) -> list[str]:
        return [json.loads(r["doc"])["id"] for r in rows]

    truthful = train("cot-truthful")
    assert all(r["correct"] for r in truthful)
    subsets = [questions(train(n)) for n in ("cot-truthful-500", "cot-truthful-1000")]
    assert [len(q) for q in subsets] == [500, 1000]
    assert set(subsets[0]) < set(subsets[1]) < set(questions(truthful))  # nested
    # The same questions: demos holds out validation by (task, doc_id), and answer-only rows
    # are zs-task rows, so the two styles split the same truthful questions differently.
    answer = questions(train("answer-truthful"))
    held = {n: questions(rows) for n, rows in held_out(("cot-truthful", "answer-truthful")).items()}
    assert set(answer) | set(held["answer-truthful"]) == set(questions(truthful)) | set(held["cot-truthful"])
    assert not any(r["correct"] for r in train("cot-misleading"))
    palm = {json.loads(line)["doc"]["id"] for line in (TEACHERS / "csqa_palm-540b_train.jsonl").open()}
    for teacher in ("cot-llama-3-70b", "cot-gemini-1.5-flash"):
        rows = train(teacher)
        assert set(questions(rows)) <= palm and len(rows) > 1900
        assert (runner.root / teacher / "annotate").is_dir()  # its own import
    assert not (runner.root / "cot-truthful" / "annotate").exists()  # PaLM's import is the grid's, once
