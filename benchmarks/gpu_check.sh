#!/usr/bin/env bash
# GPU check: on a CUDA machine, in under 8 minutes, prints
#   1. SmolLM2-135M scoring tokens/s (the scoring engine, bf16 windows of 512),
#   2. training examples/s per compressor method at 512-token contexts in bf16 (per-example vs batched),
#   3. batched evaluation examples/s (compression + target NLL + greedy decoding);
# and exits non-zero if any path fails (a CUDA error, an out-of-memory, a missing wheel).
# Run from the repository root after `make install`:   bash benchmarks/gpu_check.sh
# Not yet run on a GPU (written and checked on a CPU-only machine: the same code paths with --dtype bf16).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
"$PYTHON" - <<'PY'
import sys, torch
if not torch.cuda.is_available():
    sys.exit("gpu_check: no CUDA device visible to torch (torch %s, built for CUDA %s)" % (torch.__version__, torch.version.cuda))
print("gpu_check:", torch.cuda.get_device_name(0), "torch", torch.__version__, "bf16", torch.cuda.is_bf16_supported())
PY
echo "== 1. scoring throughput (SmolLM2-135M, window 512) =="
timeout 180 "$PYTHON" benchmarks/score_throughput.py --model smollm2 --docs 200 --window 512 --repeats 1 --skip-pair
echo "== 2-3. compressor training and evaluation at 512 tokens, bf16 =="
timeout 240 "$PYTHON" benchmarks/compressor_throughput.py --model smollm2 --context 512 --batch 8 --steps 2 \
    --examples 32 --eval-examples 16 --new-tokens 20 --repeats 1 --dtype bf16
echo "gpu_check: every path ran"
