"""Tiny local causal LMs built on the spot: for tests and the offline demo, never a result.

A byte-level BPE tokenizer is trained on a handful of texts and wrapped in
``PreTrainedTokenizerFast``; the model is a randomly initialised 2-layer Llama. Nothing is
downloaded. The chat template is the simplest one that lm-eval's ``--apply_chat_template``,
``transformers serve`` and the trainers all accept.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

#: Minimal chat template: "<|user|>\n...\n<|assistant|>\n...<eos>\n"; with
#: ``continue_final_message`` the last assistant turn stays open (lm-eval's gen_prefix).
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}"
    "{% if not (loop.last and m['role'] == 'assistant') %}\n{{ eos_token }}\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

SPECIAL_TOKENS = ["<pad>", "<s>", "</s>", "<unk>", "<|user|>", "<|assistant|>", "<|system|>"]


def build_tokenizer(texts: Iterable[str], vocab_size: int = 512):
    """Train a byte-level BPE tokenizer on ``texts``.

    Args:
        texts: Training text; include the prompts and answers the model will see.
        vocab_size: Target vocabulary size.

    Returns:
        A ``PreTrainedTokenizerFast`` with pad/bos/eos/unk and a chat template.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_model(tokenizer, hidden_size: int = 64, layers: int = 2, heads: int = 4, seed: int = 0):
    """A randomly initialised Llama sized for CPU tests."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=2048,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
    )
    return LlamaForCausalLM(config)


def make_tiny_model(out_dir: str | Path, texts: Iterable[str], vocab_size: int = 512, **model_kwargs) -> Path:
    """Build and save a tiny model + tokenizer directory loadable by ``from_pretrained``.

    Args:
        out_dir: Where to save it (created).
        texts: Text to train the tokenizer on.
        vocab_size: Tokenizer vocabulary size.
        **model_kwargs: Passed to :func:`build_model`.

    Returns:
        ``out_dir`` as a Path.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(texts, vocab_size)
    model = build_model(tok, **model_kwargs)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out
