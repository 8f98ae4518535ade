"""One YAML-mapping loader and one KEY=VALUE parser: every config file and every override
reports a bad input in the same one line, as the caller's own error class."""

from __future__ import annotations

import pytest

from training.distill.recipe_file import recipe_values
from training.errors import ConfigError, RecipeError, UserError
from training.evaluate.cli import parse_renames
from training.evaluate.config import ModelSpec, load_config
from training.pipeline.recipe import apply_override, read_raw
from training.yaml_mapping import load_mapping, parse_override

#: Every reader of a config file, with the error class its command reports.
READERS = [
    (lambda path: read_raw(path)[0], RecipeError),  # aligncot run RECIPE
    (load_config, ConfigError),  # aligncot eval CONFIG
    (recipe_values, UserError),  # aligncot sft / self-refine --recipe FILE
]


@pytest.mark.parametrize(("read", "error"), READERS)
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [1, 2\n", ": not valid YAML (while parsing a flow sequence)"),
        ("- a\n- b\n", ": expected a mapping at the top level, got a list"),
        ("just words\n", ": expected a mapping at the top level, got a str"),
    ],
)
def test_every_config_file_reader_reports_bad_yaml_alike(read, error, text, message, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(error) as e:
        read(path)
    assert str(e.value) == f"{path}{message}"


def test_an_empty_file_is_an_empty_mapping_and_a_missing_one_is_named(tmp_path):
    (tmp_path / "empty.yaml").write_text("# nothing yet\n")
    assert load_mapping(tmp_path / "empty.yaml") == {}
    with pytest.raises(ConfigError, match=r"none\.yaml: no such file$"):
        load_mapping(tmp_path / "none.yaml", ConfigError)


def test_overrides_read_values_as_yaml():
    assert parse_override(" lr = 1e-4") == ("lr", "1e-4")  # YAML 1.1: 1e-4 is a string; trl converts it
    assert parse_override("report_to=[none]") == ("report_to", ["none"])
    assert parse_override("limit=") == ("limit", None)  # as `limit:` in a file
    assert parse_override("name=a=b") == ("name", "a=b")
    raw = {"eval": {"limit": 5}}
    apply_override(raw, "eval.limit=2")
    assert raw == {"eval": {"limit": 2}}


@pytest.mark.parametrize(
    ("parse", "error", "message"),
    [
        (lambda: parse_override("learning_rate"), UserError, "override 'learning_rate': expected KEY=VALUE"),
        (lambda: parse_override("=3"), UserError, "override '=3': expected KEY=VALUE"),
        (lambda: apply_override({}, "eval.limit"), RecipeError, "--set 'eval.limit': expected KEY=VALUE"),
        (lambda: parse_renames(["a=b", "c"]), UserError, "--rename 'c': expected OLD=NEW"),
        (
            lambda: ModelSpec.from_flag("name=a,pretrained"),
            ConfigError,
            "--model 'name=a,pretrained': 'pretrained': expected KEY=VALUE",
        ),
        (
            lambda: parse_override("report_to=[none"),
            UserError,
            "override 'report_to=[none': value not valid YAML (while parsing a flow sequence)",
        ),
    ],
)
def test_every_key_value_option_reports_a_bad_pair_alike(parse, error, message):
    with pytest.raises(error) as e:
        parse()
    assert str(e.value) == message
