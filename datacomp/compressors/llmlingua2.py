"""LLMLingua-2 (Pan et al. 2024): a token classifier (keep / drop per word) from a local folder, through the
llmlingua package; built and counted as llmlingua.py says (no tiktoken download, budgets in the decoder's
tokens). 0.2.2 picks its word-piece convention from the model's *name*, which must contain
``bert-base-multilingual-cased`` or ``xlm-roberta-large``; here it is set from the folder's ``model_type``."""

from __future__ import annotations

from datacomp.compressors.llmlingua import bare_compressor
from datacomp.errors import DatacompError

WORD_PIECE_CONVENTIONS = {"bert": "bert-base-multilingual-cased", "xlm-roberta": "xlm-roberta-large"}


class LLMLingua2:
    """LLMLingua-2's token classifier (keep / drop per word) from a local folder."""

    def __init__(self, folder: str, counter_tokenizer, device: str = "cpu") -> None:
        from transformers import AutoConfig

        model_type = AutoConfig.from_pretrained(folder).model_type
        if model_type not in WORD_PIECE_CONVENTIONS:
            raise DatacompError(f"{folder}: llmlingua2 needs a token-classification model of type "
                                f"{' or '.join(WORD_PIECE_CONVENTIONS)}, not {model_type!r}")
        self.compressor = compressor = bare_compressor(counter_tokenizer)
        compressor.use_llmlingua2 = True
        compressor.load_model(folder, device, {"trust_remote_code": False})
        compressor.model_name = WORD_PIECE_CONVENTIONS[model_type]
        compressor.init_llmlingua2()   # note: 0.2.2 seeds python, numpy and torch here (seed 42)
        compressor.model.eval()

    def compress(self, text: str, budget: int) -> str:
        import torch

        with torch.no_grad():
            result = self.compressor.compress_prompt_llmlingua2([text], target_token=budget)
        return result["compressed_prompt"]
