"""``aligncot run``: stage skipping by inputs hash, recipes, the offline demo, kill and restart."""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from training.cli import COMMANDS
from training.errors import UserError
from training.evaluate.config import EvalConfig
from training.pipeline.arguments import DEMO_NOTE
from training.pipeline.cli import run
from training.pipeline.recipe import PipelineRecipe, RecipeError, load_recipe
from training.pipeline.run import Pipeline
from training.pipeline.stages import Stage, read_state, run_stages

ROOT = Path(__file__).resolve().parents[1]
RECIPES = sorted((ROOT / "harness_configs" / "pipeline").rglob("*.yaml"))


class Toy:
    """Two stages: ``upper`` reads ``in.txt`` and writes ``a.txt``; ``count`` reads ``a.txt``."""

    def __init__(self, root: Path):
        self.root, self.calls = root, []
        (root / "in.txt").write_text("abc")

    def upper(self):
        self.calls.append("upper")
        (self.root / "a.txt").write_text((self.root / "in.txt").read_text().upper())

    def count(self):
        self.calls.append("count")
        (self.root / "b.txt").write_text(str(len((self.root / "a.txt").read_text())))

    def stages(self) -> list[Stage]:
        r = self.root
        return [
            Stage("upper", {"v": 1}, [r / "in.txt"], [r / "a.txt"], self.upper),
            Stage("count", {"v": 1}, [r / "a.txt"], [r / "b.txt"], self.count),
        ]

    def run(self, **kw):
        return run_stages(self.stages(), self.root / ".stages", echo=lambda _: None, **kw)


def test_stages_skip_when_inputs_unchanged_and_rerun_downstream_when_changed(tmp_path):
    toy = Toy(tmp_path)
    assert [o.status for o in toy.run()] == ["ran", "ran"]
    assert [o.status for o in toy.run()] == ["skipped", "skipped"] and toy.calls == ["upper", "count"]
    (tmp_path / "in.txt").write_text("abcd")
    assert [o.status for o in toy.run()] == ["ran", "ran"] and (tmp_path / "b.txt").read_text() == "4"
    (tmp_path / "b.txt").unlink()  # an output gone: that stage only
    assert [o.status for o in toy.run()] == ["skipped", "ran"]


def test_from_reruns_that_stage_and_later_ones(tmp_path):
    toy = Toy(tmp_path)
    toy.run()
    assert [o.status for o in toy.run(start_from="count")] == ["skipped", "ran"]
    with pytest.raises(UserError, match="stages are upper, count"):
        toy.run(start_from="nope")


def test_interrupted_stage_keeps_partial_outputs_only_for_the_same_inputs(tmp_path):
    toy = Toy(tmp_path)

    def crash():
        (tmp_path / "a.txt").mkdir()
        (tmp_path / "a.txt" / "partial").write_text("half")
        raise KeyboardInterrupt

    stages = toy.stages()
    stages[0].action = crash
    with pytest.raises(KeyboardInterrupt):
        run_stages(stages, tmp_path / ".stages", echo=lambda _: None)
    assert read_state(tmp_path / ".stages" / "upper.json")["status"] == "running"
    seen = []

    def resume():
        seen.append((tmp_path / "a.txt" / "partial").exists())
        (tmp_path / "a.txt").mkdir(exist_ok=True)

    stages[0].action = resume
    run_stages(stages[:1], tmp_path / ".stages", echo=lambda _: None)
    assert seen == [True]  # same inputs: the stage may resume from its partial work
    (tmp_path / "in.txt").write_text("changed")
    run_stages(stages[:1], tmp_path / ".stages", echo=lambda _: None)
    assert seen == [True, False]  # different inputs: stale partial work removed first


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.relative_to(ROOT / "harness_configs" / "pipeline").as_posix())
def test_every_recipe_loads_and_plans(path, tmp_path):
    recipe, _ = load_recipe(path)
    pipeline = Pipeline(recipe, tmp_path / "run")
    names = [s.name for s in pipeline.stages() if s.name != "refine-demos"]
    assert names[-6:] == ["annotate", "demos", "sft", "self-refine", "eval", "leaderboard"]
    cfg = pipeline.eval_config("http://127.0.0.1:1/v1")
    EvalConfig.from_dict(cfg)  # the eval stage's config is valid
    rows = [m["name"] for m in cfg["models"]]
    expected = ["student-base", "student-sft", "student-sft-dpo"]
    if recipe.eval.students is not None:  # a time budget's choice (the demo)
        expected = [r for r in expected if r in recipe.eval.students]
    assert rows[-len(expected) :] == expected
    assert ("teacher" in rows) == (recipe.teacher.backend == "openai" and not recipe.teacher.recorded)


def test_refine_demos_are_drawn_from_the_questions_the_sft_demos_leave_out(tmp_path):
    """The self-refine sample excludes the SFT demonstrations' questions, drawn right after them."""
    pipeline = Pipeline(load_recipe("smollm2_demo")[0], tmp_path / "run")
    questions = str(pipeline.run_dir / "demos" / "questions.txt")
    sft, refine = pipeline.demos_args(), pipeline.demos_args(refine=True)
    assert "--exclude-questions" not in sft
    assert refine[refine.index("--exclude-questions") + 1] == questions
    assert refine[refine.index("--balance") + 1] == str(pipeline.r.refine_questions)
    stages = {s.name: s for s in pipeline.stages()}
    names = list(stages)
    assert names.index("refine-demos") == names.index("demos") + 1  # before SFT trains
    assert Path(questions) in stages["demos"].outputs and Path(questions) in stages["refine-demos"].input_paths


def test_recipe_errors_name_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nannotate: {tasks: [aligncot_csqa_cot]}\nteacher: {modle: gpt}\n")
    with pytest.raises(RecipeError, match="teacher: unknown key 'modle'"):
        load_recipe(bad)
    with pytest.raises(RecipeError, match="not found"):
        load_recipe("no-such-recipe")
    recipe, _ = load_recipe("demo", ("eval.limit=3", "sft.num_train_epochs=1"))
    assert recipe.eval.limit == 3 and recipe.sft["num_train_epochs"] == 1
    out = CliRunner().invoke(run, [str(bad)])
    assert out.exit_code != 0 and "unknown key 'modle'" in out.output


def test_demo_fields_are_the_demo_schemas_only(tmp_path):
    """A demo: section selects the demo schema; the product schema refuses demo keys."""
    from training.demo.schema import DemoRecipe

    demo, _ = load_recipe("demo", ("demo.teacher_steps=7",))
    assert isinstance(demo, DemoRecipe) and demo.tiny_teacher and demo.demo.teacher_steps == 7
    product = tmp_path / "p.yaml"
    product.write_text("name: p\nannotate: {tasks: [aligncot_csqa_cot]}\nteacher: {model: gpt}\n")
    recipe, _ = load_recipe(product)
    assert type(recipe) is PipelineRecipe and not recipe.tiny
    for key in ("teacher.tiny=true", "student.tiny=true", "demo_teacher_steps=5"):
        with pytest.raises(RecipeError, match="unknown key"):
            load_recipe(product, (key,))
    with pytest.raises(RecipeError, match="demo.tiny_teacher is served by `transformers serve`"):
        load_recipe("demo", ("teacher.backend=hf",))


@pytest.mark.parametrize(
    "state, resumes",
    [("", False), ('{"global_st', False), ('{"global_step": 3}', True)],
    ids=["empty-state", "half-written-state", "complete"],
)
def test_pipeline_passes_resume_only_for_a_checkpoint_the_trainer_accepts(tmp_path, monkeypatch, state, resumes):
    """Regression: a kill while the first checkpoint was written made `run` pass --resume, which sft refused."""
    recipe, _ = load_recipe("demo")
    pipeline = Pipeline(recipe, tmp_path / "run")
    checkpoint = tmp_path / "run" / "sft.run" / "checkpoint-3"
    checkpoint.mkdir(parents=True)
    (checkpoint / "trainer_state.json").write_text(state)
    calls = []
    monkeypatch.setattr(pipeline, "command", lambda stage, args: calls.append(args))
    pipeline.train("sft", ["sft", "x=1"], tmp_path / "run" / "sft")
    assert ("--resume" in calls[0]) == resumes
    from training.distill import artifacts

    found = artifacts.prepare_run(tmp_path / "run" / "sft", tmp_path / "run" / "sft.run", resume=resumes)
    assert found == (checkpoint if resumes else None)  # the trainer agrees with the pipeline


@pytest.mark.parametrize(
    "override, message",
    [
        ("teacher.samples=-3", r"teacher\.samples: .*greater than or equal to 1, got -3"),
        ("demos.val_fraction=7", r"demos\.val_fraction: .*less than 1, got 7"),
        ("annotate.limit=abc", r"annotate\.limit: .*integer.*got 'abc'"),
        ("eval.limit=abc", r"eval\.limit: .*number.*got 'abc'"),
        ("student.chat_template='yes'", r"student\.chat_template: .*boolean, got 'yes'"),
        ("demos.kind=some", r"demos\.kind: .*'truthful'.*got 'some'"),
        ("refine_questions=8", r"refine_questions: .*demos\.balance must set their number"),
    ],
)
def test_recipe_types_are_refused_up_front_in_one_line(override, message):
    with pytest.raises(RecipeError, match=message) as e:
        load_recipe("demo", (override,))
    assert "\n" not in str(e.value)
    out = CliRunner().invoke(run, ["demo", f"--set={override}"])
    assert out.exit_code == 1 and out.output.count("\n") == 1 and "Error:" in out.output


STAGE_COMMANDS = ("annotate", "demos", "sft", "self-refine")
needs_stage_commands = pytest.mark.skipif(
    any(c not in COMMANDS for c in STAGE_COMMANDS),
    reason=f"stage commands not registered yet: {[c for c in STAGE_COMMANDS if c not in COMMANDS]}",
)
#: A faster demo for the kill/restart test (same stages, fewer rows and steps).
QUICK = ("eval.limit=4", "sft.num_train_epochs=2", "self_refine.max_steps=2")


def aligncot_run(run_dir: Path, *sets: str) -> list[str]:
    return [sys.executable, "-m", "training", "run", "demo", "--run-dir", str(run_dir), *(f"--set={s}" for s in sets)]


def child_env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


@pytest.mark.slow
@needs_stage_commands
def test_demo_runs_offline_and_writes_the_leaderboard(tmp_path):
    start = time.monotonic()
    proc = subprocess.run(
        aligncot_run(tmp_path / "run"), capture_output=True, text=True, timeout=900, env=child_env(), cwd=tmp_path
    )
    wall = time.monotonic() - start
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    board = tmp_path / "run" / "leaderboard"
    assert DEMO_NOTE in proc.stdout and str(board / "leaderboard.html") in proc.stdout
    rows = list(csv.DictReader((board / "leaderboard.csv").open()))
    assert [r["model"] for r in sorted(rows, key=lambda r: r["model"])] == [
        "student-base",
        "student-sft",
        "student-sft-dpo",
        "teacher",
    ]
    assert all(r["csqa_cot"] != "" and r["obqa_zs"] != "" for r in rows)
    assert DEMO_NOTE in (board / "leaderboard.md").read_text()
    # The last line: base -> final student on the first task, paired (the tiny demo: 8 questions).
    assert re.fullmatch(
        r"student on \d+ CSQA questions: base \d+\.\d% -> student \d+\.\d% \([+-]\d+\.\d points, McNemar p=[\d.e-]+\)",
        proc.stdout.strip().splitlines()[-1],
    ), proc.stdout[-500:]
    assert {p.name for p in (board / "charts").iterdir()} == {"accuracy_zs.png", "accuracy_cot.png"}
    print(f"demo wall time: {wall:.0f}s")


@pytest.mark.slow
@needs_stage_commands
def test_killed_run_restarts_without_redoing_finished_stages(tmp_path):
    run_dir = tmp_path / "run"
    states = run_dir / ".stages"
    proc = subprocess.Popen(
        aligncot_run(run_dir, *QUICK),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=child_env(),
        cwd=tmp_path,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 600
        while read_state(states / "sft.json").get("status") != "running":  # killed in the middle of training
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "sft never started"
            time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole process group: stage commands too
        proc.wait(30)
    finished = {s: read_state(states / f"{s}.json") for s in ("models", "annotate", "demos")}
    assert all(st["status"] == "done" for st in finished.values())
    again = subprocess.run(
        aligncot_run(run_dir, *QUICK), capture_output=True, text=True, timeout=900, env=child_env(), cwd=tmp_path
    )
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    for stage, state in finished.items():
        assert f"{stage}: inputs unchanged, outputs present -> skipped" in again.stdout
        assert read_state(states / f"{stage}.json") == state  # not run again
    for stage in ("sft", "self-refine", "eval", "leaderboard"):
        assert read_state(states / f"{stage}.json")["status"] == "done"
    assert (run_dir / "leaderboard" / "leaderboard.csv").is_file()


def test_trainer_stages_resume_from_checkpoints_and_keep_a_published_adapter(tmp_path, monkeypatch):
    recipe, _ = load_recipe("demo")
    pipeline = Pipeline(recipe, tmp_path)
    calls = []
    monkeypatch.setattr(pipeline, "command", lambda stage, args: calls.append(args))
    out = tmp_path / "sft"
    pipeline.train("sft", ["sft", "a=1"], out)
    (tmp_path / "sft.run" / "checkpoint-7").mkdir(parents=True)
    (tmp_path / "sft.run" / "checkpoint-7" / "trainer_state.json").write_text("{}")
    pipeline.train("sft", ["sft", "a=1"], out)
    out.mkdir()
    (out / "adapter_config.json").write_text("{}")
    pipeline.train("sft", ["sft", "a=1"], out)
    assert calls == [["sft", "a=1"], ["sft", "--resume", "a=1"]]


@needs_stage_commands
@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.relative_to(ROOT / "harness_configs" / "pipeline").as_posix())
def test_stage_arguments_are_accepted_by_the_stage_commands(path, tmp_path):
    """Every argument the pipeline passes parses with the real command (flags drift otherwise),
    and the trainers accept every sft/self-refine field a recipe sets."""
    import click

    from training.cli import main
    from training.distill import recipes

    pipeline = Pipeline(load_recipe(path)[0], tmp_path)
    for task in pipeline.r.annotate.tasks:  # inputs that must exist for the commands to parse
        pipeline.annotation_dir(task).mkdir(parents=True)
    (tmp_path / "eval" / "results").mkdir(parents=True)
    commands = [
        pipeline.annotate_args(pipeline.r.annotate.tasks[0], "http://127.0.0.1:1/v1"),
        pipeline.demos_args(),
        pipeline.sft_args(),
        pipeline.self_refine_args(),
        pipeline.leaderboard_args(),
    ]
    commands += [pipeline.demos_args(refine=True)] if pipeline.r.refine_questions else []
    commands += [pipeline.score_args()] if pipeline.r.teacher.recorded_eval else []
    for args in commands:
        with click.Context(main) as ctx:
            main.get_command(ctx, args[0]).make_context(args[0], list(args[1:]))
    recipes.load_recipe(recipes.SFTRecipe, *recipe_and_overrides(pipeline.sft_args()))
    recipes.load_recipe(recipes.DPORecipe, *recipe_and_overrides(pipeline.self_refine_args()))


def recipe_and_overrides(args: list[str]) -> tuple[str | None, list[str]]:
    """A trainer command's ``--recipe FILE`` (or None) and its KEY=VALUE overrides."""
    if args[1] == "--recipe":
        return args[2], args[3:]
    return None, args[1:]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("sft.learnin_rate=1e-4", r"unknown key 'sft\.learnin_rate'"),
        ("sft.num_train_epochs=many", r"key 'sft\.num_train_epochs': invalid float"),
        ("self_refine.beta=abc", r"key 'self_refine\.beta': invalid float"),
        ("sft.quantization=8bit", r"key 'sft\.quantization' must be one of"),
        ("sft.base_model=/m", r"sft\.base_model: set by the pipeline"),
        ("sft.recipe=no/such.yaml", r"sft\.recipe: 'no/such\.yaml': no such file"),
    ],
)
def test_trainer_sections_are_validated_when_the_recipe_loads(override, message, tmp_path):
    """A bad sft/self_refine key is one line naming it, before any stage (issue 22, defect 2)."""
    with pytest.raises(RecipeError, match=message) as e:
        load_recipe("smollm2_demo", (override,))
    assert "\n" not in str(e.value)
    out = CliRunner().invoke(run, ["smollm2_demo", "--run-dir", str(tmp_path / "run"), f"--set={override}"])
    assert out.exit_code == 1 and out.output.count("\n") == 1 and "Error:" in out.output
    assert not (tmp_path / "run").exists()  # no stage ran


@pytest.mark.parametrize("name", ["smollm2_demo", "smollm2_csqa"])
def test_pipeline_recipes_reference_the_published_trainer_recipes(name, tmp_path):
    """One recipe, not two copies: the pipeline passes the published file to the trainer, and
    overrides only what differs from it (an override equal to the published value is a copy)."""
    from training.distill.recipe_file import recipe_values
    from training.pipeline import trainers

    recipe, _ = load_recipe(name)
    published = ROOT / "harness_configs" / "recipes" / "smollm2-135m-instruct"
    pipeline = Pipeline(recipe, tmp_path)
    for section, file, args in (
        (recipe.sft, "sft.yaml", pipeline.sft_args()),
        (recipe.self_refine, "dpo.yaml", pipeline.self_refine_args()),
    ):
        assert trainers.trainer_file(section) == published / file
        assert args[1:3] == ["--recipe", str(published / file)]
        values = recipe_values(published / file)
        copies = [k for k, v in trainers.overrides(section).items() if values.get(k) == v]
        assert not copies, f"{name}: {copies} repeat {file}"
    # Editing the published recipe re-runs the stage: the file is one of its hashed inputs.
    sft = next(s for s in pipeline.stages() if s.name == "sft")
    assert published / "sft.yaml" in sft.input_paths


def test_console_follows_the_log_last_line_progress_bars_included(tmp_path):
    import io

    from training.pipeline.console import StatusLine, chunks_to_lines, run_logged

    lasts = [last for _, last in chunks_to_lines(io.BytesIO(b"loading\n 10%|#\r 50%|###\rdone\n"))]
    assert lasts[-1] == "done" and "loading" not in lasts[-1]

    class Tty(io.StringIO):
        def isatty(self):
            return True

    screen = Tty()
    status = StatusLine("sft", screen)
    status.show(" 50%|###")
    status.clear()
    assert "sft:  50%|###" in screen.getvalue() and screen.getvalue().endswith("\r\x1b[K")
    log = tmp_path / "x.log"
    rc = run_logged([sys.executable, "-c", "print('hi'); raise SystemExit(3)"], log, "x", dict(os.environ), tmp_path)
    assert rc == 3 and log.read_text() == "hi\n"


def test_paths_found_from_the_package_point_into_this_checkout():
    """Moving modules changes what ``__file__``'s parents are: pin them to the checkout."""
    from training.pipeline import recipe as recipe_module
    from training.pipeline import trainers

    dirs = recipe_module.RECIPE_DIRS
    assert ROOT / "harness_configs" / "pipeline" in dirs and ROOT / "harness_configs" / "experiments" in dirs
    assert trainers.ROOT == ROOT
    assert (recipe_module.DEMO_DIR / "recipe.yaml").is_file()
    pipeline = Pipeline(load_recipe("demo")[0], ROOT / "runs" / "unused")
    assert str(ROOT) in pipeline.env()["PYTHONPATH"].split(os.pathsep)[0]
