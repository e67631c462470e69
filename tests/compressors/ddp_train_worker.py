"""Run by test_distributed.py under torchrun: `datacomp train` for 3 steps, then the same training to 5 steps in
the same folder (a resume from the 2-process checkpoint), in one launch (processes and imports paid once)."""

from __future__ import annotations

import sys

from datacomp.cli import main

if __name__ == "__main__":
    args = sys.argv[1:]
    main([*args, "--steps", "3"])
    main([*args, "--steps", "5"])
