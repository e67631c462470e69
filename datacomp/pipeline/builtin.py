"""The built-in stage types, loaded into the registry.

Above the registry (registry.py, which the stage modules import to register into) and the stage modules,
so nothing below imports a stage module back: the registry stays a leaf; the file check, the runner and
the CLI ask here.
"""

from __future__ import annotations

from datacomp.pipeline.registry import STAGES, StageType


def stage_types() -> dict[str, StageType]:
    """The registry with the built-in stage types loaded (each module registers its types on import, one
    line per type beside its code; imported here when first asked, not when a pipeline module loads)."""
    from datacomp.pipeline import library_stages, stages  # noqa: F401

    return STAGES
