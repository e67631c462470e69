"""What an evaluation is asked to do (``EvalConfig``), checked where it is built.

Its own module, free of torch, so that a pipeline file's evaluate stage is checked when the file is read
(a typo'd baseline or task fails the dry run at once, not after the stages before it have trained).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from datacomp.compressors.prompts import PROMPT_FORMATS
from datacomp.config_checks import allowed_text, at_least, choices, one_of, positive
from datacomp.errors import ConfigError
from datacomp.evaluation.baselines import BASELINES, known_systems

Task = Literal["reconstruction", "continuation", "qa", "span-recall"]   # compressors/tasks.py TASKS
Dtype = Literal["auto", "bf16", "fp16", "fp32"]                          # models/precision.py


@dataclasses.dataclass
class EvalConfig:
    compressor: str = "none"          # a compressor_id from `compressors`, or "none" for the baselines only
    decoder: str | None = None        # model id/name/path; needed with "none", else the compressor's decoder
    slice: str | None = None          # slice (or corpus) name for document tasks; a label for qa
    task: Task = "reconstruction"
    qa_file: str | None = None        # SQuAD v1.1 .json or MRQA .jsonl for task qa
    limit: int | None = 50            # examples evaluated, drawn in hash order across the slice: CPU-sized default
    batch_size: int = 8               # examples per batch (length-sorted); results do not depend on it
    dtype: Dtype = "auto"             # models/precision.py: auto | bf16 | fp16 | fp32
    prompt_format: str = "auto"       # compressors/prompts.py, for --compressor none (else the compressor's own)
    context_tokens: int | None = None  # the cap (context_cap.py): default qa 2048, else the compressor's or 512;
                                       # at most the models' window
    ratio: float | None = None        # budget ratio with compressor "none" (default 4); else the compressor's
    baselines: tuple[str, ...] = BASELINES
    max_new_tokens: int | None = None  # default per task, see runner.default_max_new_tokens
    span_words: int = 8               # span-recall construction (compressors/tasks.py)
    answer_words: int = 4
    continuation_tokens: int = 32
    windows_per_document: int = 1
    seed: int = 0                     # span positions and the drop baseline's subsets
    llmlingua_model: str | None = None   # registered causal LM for llmlingua's small model (default: the decoder)
    llmlingua2_model: str | None = None  # local folder of llmlingua2's token-classification model

    def __post_init__(self) -> None:
        if isinstance(self.baselines, str):
            raise ConfigError("baselines", f"must be a list of baseline names, got the string {self.baselines!r}")
        self.baselines = tuple(self.baselines)
        choices(self)
        unknown = [name for name in self.baselines if name not in known_systems()]
        if unknown:
            raise ConfigError("baselines", f"{unknown[0]!r} is no baseline; known: {allowed_text(known_systems())}")
        if "llmlingua2" in self.baselines and self.llmlingua2_model is None:
            raise ConfigError("baselines", "llmlingua2 needs {llmlingua2_model} FOLDER (a local token-classification "
                                           "model)", others=("llmlingua2_model",))
        one_of("prompt_format", self.prompt_format, PROMPT_FORMATS)
        at_least(self, "ratio", 1)
        positive(self, "batch_size", "context_tokens", "max_new_tokens", "span_words", "answer_words",
                 "continuation_tokens", "windows_per_document")
        at_least(self, "limit", 0)
