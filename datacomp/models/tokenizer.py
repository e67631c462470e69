"""Byte-level BPE tokenizers for the reference model family.

Byte-level: every string encodes (no unknown token) and decodes back to itself exactly, code whitespace
and any Unicode included. One special token ``<|endoftext|>`` serves as eos, bos and pad, as in GPT-2 and
SmolLM. A family of models (an encoder and its decoders) shares one tokenizer folder so token-level
divergences between them are defined.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Iterable

from datacomp.errors import DatacompError

SPECIAL_TOKEN = "<|endoftext|>"
MIN_VOCAB = 256 + 1  # the 256 byte symbols plus the special token


def train_tokenizer(texts: Iterable[str], vocab_size: int = 4096, seed: int = 0):
    """A byte-level BPE ``PreTrainedTokenizerFast`` trained on ``texts`` (shuffled with ``seed``).

    BPE training itself is deterministic given its input; the seed fixes the order the texts are seen in,
    which decides ties between equally frequent merges.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    if vocab_size < MIN_VOCAB:
        raise DatacompError(f"vocab_size {vocab_size} is too small: a byte-level tokenizer needs at least "
                            f"{MIN_VOCAB} (256 bytes + {SPECIAL_TOKEN})")
    texts = [t for t in texts if t]
    if not texts:
        raise DatacompError("cannot train a tokenizer on no text")
    random.Random(seed).shuffle(texts)

    tokenizer = Tokenizer(models.BPE())
    # No prefix space and no normaliser: decode(encode(x)) == x for every x.
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=[SPECIAL_TOKEN],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # all 256 bytes, even unseen ones
        min_frequency=2,  # a merge seen once is noise, not vocabulary
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer, length=len(texts))
    return wrap_tokenizer(tokenizer)


def wrap_tokenizer(tokenizer):
    """A ``tokenizers.Tokenizer`` as the transformers tokenizer every loader understands."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token=SPECIAL_TOKEN, bos_token=SPECIAL_TOKEN, pad_token=SPECIAL_TOKEN,
        clean_up_tokenization_spaces=False,  # cleaning would turn "a ." into "a." on decode
        model_max_length=1 << 30,  # documents are windowed by the caller, not truncated here
    )


def load_family_tokenizer(path: str | Path):
    """A tokenizer folder saved by ``save_pretrained`` (or a model folder holding one)."""
    from transformers import PreTrainedTokenizerFast

    folder = Path(path)
    if not (folder / "tokenizer.json").is_file():
        raise DatacompError(f"{folder} holds no tokenizer.json: pass a folder written by "
                            "`datacomp tokenizer train` or a model folder")
    tokenizer = PreTrainedTokenizerFast.from_pretrained(str(folder))
    if tokenizer.eos_token_id is None:
        raise DatacompError(f"tokenizer in {folder} has no eos token; the reference models need one")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def tokenize_texts(tokenizer, texts: list[str]) -> list[list[int]]:
    """The one tokenizing function (scoring, task data, compressors, baselines): text tokens only.
    Special-token strings inside a text are split like ordinary text (a document containing
    "<|endoftext|>" is data, not a control token), and the tokenizer's own BOS/EOS are not added:
    the caller adds its start and end tokens itself."""
    if not texts:
        return []
    encoded = tokenizer(list(texts), add_special_tokens=False, split_special_tokens=True,
                        return_attention_mask=False)
    return [list(ids) for ids in encoded["input_ids"]]


def tokenize_text(tokenizer, text: str) -> list[int]:
    """``tokenize_texts`` of one text."""
    return tokenize_texts(tokenizer, [text])[0]


def encode_documents(tokenizer, texts: list[str], batch_size: int = 256) -> list[list[int]]:
    """Token ids of each text, without special tokens (the caller adds eos between documents)."""
    ids: list[list[int]] = []
    for start in range(0, len(texts), batch_size):
        ids.extend(tokenize_texts(tokenizer, texts[start:start + batch_size]))
    return ids


def start_token_id(tokenizer) -> int:
    """A sequence's first token, as in pretraining: BOS, else eos (the reference models' document boundary)."""
    token = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    if token is None:
        raise ValueError("the tokenizer has neither a bos nor an eos token to start decoding from")
    return int(token)
