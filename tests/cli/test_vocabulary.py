"""One name per concept: every flag of a command that has a pipeline stage type is one of its keys."""

from __future__ import annotations

import pytest

# command path -> pipeline stage type
STAGE_OF_COMMAND = {
    ("corpora", "prepare"): "prepare_corpora", ("ingest",): "ingest", ("pretrain",): "pretrain",
    ("models", "add"): "add_model", ("score",): "score", ("slice", "create"): "slice",
    ("curriculum",): "curriculum", ("split",): "split", ("export",): "export", ("train",): "train",
    ("evaluate",): "evaluate", ("report",): "report",
}
# what only a command line has: the store, the output form, the machine, and choices a pipeline makes itself
CLI_ONLY = {"db", "json", "threads", "help", "strict", "replace", "overwrite", "from_compressor",
            "engine", "address", "workers", "gpus_per_worker"}   # where score and evaluate run (Ray)
# flags that fill one field of a nested table: pretrain's model shape
NESTED = {"pretrain": {"layers": "shape", "hidden": "shape", "heads": "shape", "context": "shape", "vocab": "shape"}}


def flag_names(path):
    from datacomp.cli import command

    node = command()
    for name in path:
        node = node.commands[name]
    return [(param.name, param) for param in node.params]


@pytest.mark.parametrize("path", list(STAGE_OF_COMMAND), ids=" ".join)
def test_each_flag_is_a_pipeline_key(path):
    from datacomp.pipeline.builtin import stage_types
    from datacomp.pipeline.typed import describe_fields

    stage_type = STAGE_OF_COMMAND[path]
    keys = {row["key"] for row in describe_fields(stage_types()[stage_type].config_type)} | {"name"}
    for name, param in flag_names(path):
        long_flags = [opt for opt in getattr(param, "opts", []) if opt.startswith("--")]
        spelled = long_flags[0][2:].replace("-", "_") if long_flags else name
        if spelled in CLI_ONLY:
            continue
        if spelled in NESTED.get(stage_type, {}):
            assert NESTED[stage_type][spelled] in keys
            continue
        repeatable = getattr(param, "multiple", False) or param.nargs != 1
        candidates = {spelled, spelled + "s", spelled.removesuffix("us") + "ora"} if repeatable else {spelled}
        if stage_type in ("curriculum", "split", "export") and name == "slice_name":
            candidates = {"slice"}   # the positional SLICE
        assert candidates & keys, f"{' '.join(path)}: flag {long_flags or name} is no key of stage type " \
                                  f"{stage_type} ({', '.join(sorted(keys))})"
