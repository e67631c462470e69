"""LLMLingua (Jiang et al. 2023), and what LLMLingua-2 (Pan et al. 2024, llmlingua2.py) shares with it:
prompt compressors that keep the context tokens a small model finds informative, through the ``llmlingua``
package (0.2.2, the optional extra ``datacomp[peers]``): they return kept text, which the decoder then
reads like a text baseline.

Two things the package does are changed here, without patching it:

- ``PromptCompressor.__init__`` calls ``tiktoken.encoding_for_model("gpt-3.5-turbo")``, which downloads a
  GPT tokenizer file and so fails offline, and counts every budget in that GPT tokenizer's tokens. The
  compressor is built with ``PromptCompressor.__new__`` and the attributes 0.2.2's ``__init__`` sets,
  with ``oai_tokenizer`` = the decoder's tokenizer (``DecoderTokens``): nothing is downloaded and a
  budget of b tokens means b tokens of the decoder the kept text is handed to.
- LLMLingua's small causal LM is a model already loaded (the evaluated decoder unless another registered
  model is named), not a second copy loaded by the package. LLMLingua-2's token classifier is loaded from
  a local folder by the package's own loader; 0.2.2 picks its word-piece convention from the model's
  *name* (it must contain ``bert-base-multilingual-cased`` or ``xlm-roberta-large``), so the name is set
  from the folder's ``model_type`` instead of its path.
- 0.2.2 hands its small LM a legacy cache (a list of [key, value] per layer, which it slices) and reads
  one back; transformers 5 takes and returns a ``Cache`` object. ``LegacyCacheLM`` converts both ways
  (decoding.cache_from_layers / cache_layers) around the model's forward.

Both compress the context alone (no question: LLMLingua's token-level pass and LLMLingua-2 are
question-agnostic), one example at a time, with ``target_token`` = the budget. LLMLingua scores the whole
context as one segment (``iterative_size`` = its token count): with 0.2.2's default 200-token segments
the last partial segment is barely compressed (measured on a tiny LM: 120 tokens kept of a 5-token budget
on 317, 4 with one segment).
"""

from __future__ import annotations

from datacomp.errors import DatacompError

class DecoderTokens:
    """What llmlingua counts tokens with (its ``oai_tokenizer``): the decoder's tokenizer, no special tokens."""

    def __init__(self, tokenizer) -> None:
        self.tokenizer = tokenizer

    def encode(self, text: str, **_) -> list[int]:
        from datacomp.models.tokenizer import tokenize_text

        return tokenize_text(self.tokenizer, text)

    def decode(self, ids) -> str:
        return self.tokenizer.decode(ids)


class LegacyCacheLM:
    """A causal LM as llmlingua 0.2.2 calls it: ``past_key_values`` in and out as [key, value] per layer."""

    def __init__(self, model) -> None:
        self.model = model
        self.config = model.config

    def __call__(self, input_ids, attention_mask=None, past_key_values=None, use_cache=True):
        from types import SimpleNamespace

        from datacomp.compressors.decoding import cache_from_layers, cache_layers, model_kwargs_cache, output_cache

        cache = cache_from_layers(past_key_values) if past_key_values is not None else None
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=True,
                         **(model_kwargs_cache(cache) if cache is not None else {}))
        return SimpleNamespace(logits=out.logits,
                               past_key_values=[[keys, values] for keys, values in cache_layers(output_cache(out))])


def bare_compressor(counter_tokenizer):
    """A ``PromptCompressor`` with the state 0.2.2's ``__init__`` gives it, but no tiktoken download."""
    try:
        from llmlingua import PromptCompressor
    except ImportError as error:
        raise DatacompError("llmlingua / llmlingua2 need the llmlingua package: "
                            "pip install 'datacomp[peers]'") from error
    compressor = PromptCompressor.__new__(PromptCompressor)
    compressor.retrieval_model = None
    compressor.retrieval_model_name = None
    compressor.open_api_config = {}
    compressor.cache_bos_num = 10
    compressor.prefix_bos_num = 100
    compressor.context_idxs = []
    compressor.oai_tokenizer = DecoderTokens(counter_tokenizer)
    return compressor


class LLMLingua:
    """LLMLingua's coarse-to-fine compression with ``model`` (a causal LM) as its small model."""

    def __init__(self, model, tokenizer, counter_tokenizer) -> None:
        self.compressor = compressor = bare_compressor(counter_tokenizer)
        compressor.model_name = str(getattr(model.config, "_name_or_path", "") or "causal-lm")
        compressor.use_llmlingua2 = False
        compressor.model, compressor.tokenizer = LegacyCacheLM(model), tokenizer
        compressor.device = str(next(model.parameters()).device)
        compressor.max_position_embeddings = int(model.config.max_position_embeddings)

    def compress(self, text: str, budget: int) -> str:
        import torch

        with torch.no_grad():
            n_tokens = len(self.compressor.oai_tokenizer.encode(text))
            result = self.compressor.compress_prompt([text], target_token=budget, use_context_level_filter=False,
                                                     iterative_size=max(n_tokens, 1))
        return result["compressed_prompt"]
