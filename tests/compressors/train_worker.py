"""Run by test_train.py in a subprocess that the test kills with SIGKILL mid-training."""

from __future__ import annotations

import sys

import torch

from datacomp.compressors.registry import build_compressor
from datacomp.compressors.train import TrainConfig, train_compressor

if __name__ == "__main__":
    sys.path.insert(0, sys.argv[3])
    from test_train import EXAMPLES, OPTIONS, TRAIN  # noqa: E402

    torch.set_num_threads(1)
    torch.manual_seed(0)
    compressor = build_compressor("autoencoder", sys.argv[1], sys.argv[1], OPTIONS)
    train_compressor(compressor, EXAMPLES, TrainConfig(**{**TRAIN, "steps": 100_000}), sys.argv[2])
