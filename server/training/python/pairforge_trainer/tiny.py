"""The --tiny model: a 2-layer, 64-wide Qwen2-style causal LM with random weights and a byte-level
BPE tokenizer trained on the export's own text, built locally (no download) and saved as a model
folder, so that the reference model is loaded from it exactly as a real model's would be.

Deterministic: the same export and seed give the same tokenizer and weights. Every FIM and chat
control token of the families PairForge renders (docs/sampling.md "Prompts") is one special
token, so `<|endoftext|>` at the end of a FIM response is one token as in the real vocabularies.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Iterable, List

SPECIAL_TOKENS: List[str] = [
    '<|endoftext|>',
    '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>',
    '<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>', '<｜end▁of▁sentence｜>',
    '<fim_prefix>', '<fim_suffix>', '<fim_middle>',
    '<PRE>', '<SUF>', '<MID>', '<EOT>',
    '<|im_start|>', '<|im_end|>',
]
EOS = '<|endoftext|>'
VOCAB_SIZE = 512
HIDDEN = 64
LAYERS = 2


def build_tokenizer(texts: Iterable[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, pad_token=EOS)


def build_model(tokenizer, seed: int):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    eos = tokenizer.convert_tokens_to_ids(EOS)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        bos_token_id=eos,
        eos_token_id=eos,
        pad_token_id=eos,
        hidden_size=HIDDEN,
        intermediate_size=2 * HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=8192,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    return Qwen2ForCausalLM(config)


def ensure_tiny_model(directory: str, texts: Iterable[str], seed: int) -> str:
    """`directory` holding the tiny model and tokenizer, built there if absent (written in a
    temporary folder and renamed, so a kill never leaves half a model)."""
    if os.path.isfile(os.path.join(directory, 'config.json')):
        return directory
    parent = os.path.dirname(os.path.abspath(directory))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix='.tiny-', dir=parent)
    try:
        tokenizer = build_tokenizer(texts)
        model = build_model(tokenizer, seed)
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        os.replace(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory
