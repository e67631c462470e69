"""The report end to end on planted data: findings, guidelines that follow the numbers, JSON = Markdown,
a self-contained HTML page, sections that say what is missing."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
from scipy import stats as sps

from datacomp.analysis.render import render_markdown
from datacomp.analysis.render_results import finding_row
from datacomp.analysis.report import ReportConfig, build_report
from datacomp.errors import ConfigError
from datacomp.store import open_store

from planted_store import FAST, _insert, populate

def _find(data, group_part, x, method, outcome="loss"):
    """The first finding of a method on one outcome (loss, quality, full: the planted store runs the full
    baseline beside every compressor, so the loss is the primary outcome)."""
    return next(f for f in data["findings"]["items"]
                if group_part in f["group"] and f["x"] == x and f["method"] == method
                and f.get("outcome") in (outcome, None))


def _guideline(data, topic, scope_part):
    return next(g for g in data["guidelines"]["items"] if g["topic"] == topic and scope_part in g["scope"])


def test_planted_effects_are_found(planted):
    _, _, data = planted
    # planted: full context ~0.98 whatever the entropy, the compressor falls with it: the loss rises
    enc = _find(data, "ae4-dec0", "enc_entropy", "spearman")
    dec = _find(data, "ae4-dec0", "dec_entropy", "spearman")
    assert enc["direction"] == "positive" and enc["significant"] and enc["n"] == 90 and enc["role"] == "primary"
    assert not dec["significant"] and dec["verdict"].startswith("not significant")
    raw = _find(data, "ae4-dec0", "enc_entropy", "spearman", outcome="quality")
    assert raw["direction"] == "negative" and raw["role"] == "beside"
    slope = _find(data, "ae4-dec0", "enc_entropy", "ols-hc3 slope", outcome="quality")
    assert -0.11 < slope["estimate"] < -0.07  # planted -0.1 per nat, attenuated a little by clipping at F1 = 1
    adjusted = [f["p_adjusted"] for f in data["findings"]["items"]]
    assert all(a is None or a >= f["p_value"] for a, f in zip(adjusted, data["findings"]["items"]))


def test_finding_matches_an_independent_computation_from_the_raw_tables(planted):
    store, _, data = planted
    frame = store.con.table("evaluations").filter("system = 'ae4-dec0'").df()
    full = store.con.table("evaluations").filter("system = 'full'").df()[["eval_id", "example_id", "f1"]]
    frame = frame.merge(full, on=["eval_id", "example_id"], suffixes=("", "_full"))
    scores = store.con.table("scores").filter("model_id = 'enc-abc123'").df()
    joined = frame.merge(scores, on="doc_id")
    expected = sps.spearmanr(joined["entropy_mean"], joined["f1_full"] - joined["f1"])   # the loss, per example
    finding = _find(data, "ae4-dec0", "enc_entropy", "spearman")
    assert finding["estimate"] == pytest.approx(expected.statistic, rel=1e-10)
    assert finding["p_classical"] == pytest.approx(expected.pvalue, rel=1e-6)
    assert finding["p_value"] <= 2 / (100 + 1) and finding["ci_low"] > 0   # agrees with its interval


def test_threshold_guideline_follows_the_planted_numbers(planted):
    _, _, data = planted
    guideline = _guideline(data, "encoder entropy threshold", "ae4-dec0")
    threshold = guideline["basis"]["threshold"]
    # planted: F1 = 0.9 - 0.1 (h - 3) at the matched decoder, so F1 = 0.85 at h = 3.5
    assert guideline["supported"] and 3.3 < threshold["x"] < 3.7 and threshold["bounded"]
    assert threshold["ci_low"] < threshold["x"] < threshold["ci_high"]
    assert "falls below 85 points when encoder entropy exceeds" in guideline["text"]
    assert f"exceeds {_fmt(threshold['x'])} nats/token" in guideline["text"]
    gap = _guideline(data, "knowledge gap", "autoencoder")
    assert gap["supported"] and gap["text"].startswith("Match the decoder to the encoder (autoencoder 4x, encoder "
                                                       "enc-abc123): the gap predicts compression loss: reproduced")
    slope = gap["basis"]["slope"]
    assert 0.45 < slope["estimate"] < 0.75  # planted -0.6 F1 per nat of JS, full context unaffected: +0.6 loss


def test_domain_guideline_names_the_lowest_domain_from_the_numbers(planted):
    _, _, data = planted
    """The domain guideline compares the compression loss (full - system) across domains, never raw quality."""
    finding = _find(data, "ae4-dec0", "domain", "kruskal-wallis H")
    analysis = next(a for a in data["findings"]["compressors"] if a["compressor_id"] == "ae4-dec0")
    by_domain = {d["domain"]: d for d in analysis["loss"]["by_domain"]}
    groups = {}
    for loss, domain in zip(*_loss(planted[0], "ae4-dec0")):
        groups.setdefault(domain, []).append(loss)
    assert finding["estimate"] == pytest.approx(sps.kruskal(*groups.values()).statistic, rel=1e-10)
    assert {d: by_domain[d]["mean"] for d in groups} == pytest.approx({d: np.mean(v) for d, v in groups.items()})
    guideline = _guideline(data, "domain", "ae4-dec0")
    worst = max(groups, key=lambda d: np.mean(groups[d]))
    assert guideline["supported"] == finding["significant"]
    assert f"most lost: {worst} loses {_fmt(np.mean(groups[worst]) * 100)} points" in guideline["text"]
    assert "lower compression ratio" not in guideline["text"]   # no ratio was varied


def _loss(store, system):
    frame = store.con.table("evaluations").filter(f"system = '{system}'").df()
    full = store.con.table("evaluations").filter("system = 'full'").df()[["eval_id", "example_id", "f1"]]
    frame = frame.merge(full, on=["eval_id", "example_id"], suffixes=("", "_full"))
    documents = store.con.table("documents").df()[["doc_id", "domain"]]
    joined = frame.merge(documents, on="doc_id")
    return (joined["f1_full"] - joined["f1"]).to_numpy(), joined["domain"].to_numpy()


def test_paper_claims_follow_the_planted_effects(planted, null):
    def status(data, claim_start, scope_part):
        return next(c["status"] for c in data["guidelines"]["paper_claims"]
                    if c["claim"].startswith(claim_start) and scope_part in c["scope"])

    # planted within every domain, on the compressor only: the loss, pooled and within domains
    assert status(planted[2], "1: higher encoder entropy", "ae4-dec0") == ("entropy predicts compression loss: "
                                                                          "reproduced (pooled and within domains)")
    assert status(planted[2], "1: decoder", "ae4-dec0").startswith("consistent: no significant relation (CI [")
    # the frozen-decoder claim does not apply where the compressor tuned its decoder (decoder_lora), and the
    # decoder-entropy guideline says the same for it (not "consistent with the paper")
    assert status(planted[2], "1: decoder", "ae4-dec3") == "not applicable (this compressor tunes its decoder)"
    assert "not applicable: this compressor tunes its decoder" in _guideline(planted[2], "decoder entropy", "ae4-dec3")["text"]
    assert status(planted[2], "1: higher encoder entropy", "ae4-dec3").startswith("entropy predicts compression loss")
    assert status(planted[2], "2:", "autoencoder") == "the gap predicts compression loss: reproduced"
    assert status(null[2], "1: higher encoder entropy", "ae4-dec0").startswith(
        "entropy predicts neither the loss nor difficulty (full context): on the loss not reproduced (not significant")
    assert status(null[2], "2:", "autoencoder").startswith("not reproduced (not significant: the loss slope's 95% CI")
    assert ("| 1: higher encoder entropy, larger compression loss (full - system) | autoencoder 4x (ae4-dec0) | "
            "entropy predicts compression loss: reproduced (pooled and within domains) |") \
        in planted[1]["markdown"].read_text()


def test_no_effect_gives_not_significant_wording(null):
    _, paths, data = null
    guideline = _guideline(data, "encoder entropy threshold", "ae4-dec0")
    assert not guideline["supported"]
    assert guideline["text"].startswith("No encoder-entropy threshold for autoencoder 4x (ae4-dec0): encoder entropy "
                                        "predicts neither the loss nor difficulty (full context): on the loss not "
                                        "reproduced (not significant: pooled 95% CI [")
    assert "no effect shown, which is not evidence of none" in guideline["text"]
    pooled = guideline["basis"]["pooled"]   # "not significant" comes with its interval, in the sentence
    assert f"95% CI [{_fmt(pooled['ci_low'])}, {_fmt(pooled['ci_high'])}]" in guideline["text"]
    assert "falls below" not in guideline["text"]
    assert data["figures"] == [] and "<img" not in paths["html"].read_text()
    gap = _guideline(data, "knowledge gap", "autoencoder")
    assert not gap["supported"] and "not reproduced (not significant: the loss slope's" in gap["text"]
    assert "nor that it does not" in gap["text"]


def _fmt(value):
    from datacomp.analysis.formatting import fmt

    return fmt(value)


def _markdown_table(markdown: str, first_header: str) -> list[list[str]]:
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_markdown_prints_the_numbers_in_report_json(planted):
    _, paths, data = planted
    markdown = paths["markdown"].read_text()
    assert markdown == render_markdown(json.loads(paths["json"].read_text()))
    table = _markdown_table(markdown, "id")
    assert len(table) == len(data["findings"]["items"]) > 20
    for row, finding in zip(table, data["findings"]["items"]):
        assert row[0] == finding["id"]
        assert row == [c.replace("|", "\\|") for c in finding_row(finding)]
        assert row[3] == finding["role"]
        assert (finding["p_adjusted"] is None) == (finding["role"] != "primary" or finding["p_value"] is None)
        if finding["estimate"] is not None:  # the printed number is the JSON number, rounded to 3 digits
            assert float(row[6].replace("\u2009", "")) == pytest.approx(finding["estimate"], rel=5e-3, abs=1e-12)
            if finding["ci_low"] is None:  # Kruskal-Wallis H, and Kendall across a handful of decoders
                assert row[7] == "–" and finding["method"] in ("kruskal-wallis H", "kendall")
            else:
                low, high = (float(v) for v in row[7].strip("[]").split(","))
                assert low == pytest.approx(finding["ci_low"], rel=5e-3)
                assert high == pytest.approx(finding["ci_high"], rel=5e-3)
            if finding["p_value"] == 0:
                assert row[8] == "<1e-300"
            else:
                assert float(row[8]) == pytest.approx(finding["p_value"], rel=5e-2)
        assert int(row[10].replace("\u2009", "")) == finding["n"]
    for guideline in data["guidelines"]["items"]:
        assert guideline["text"] in markdown
    corpora = _markdown_table(markdown, "corpus")
    assert [[r[0], int(r[2])] for r in corpora] == [[c["corpus"], c["n_docs"]] for c in data["audit"]["corpora"]]
    quarantine = _markdown_table(markdown, "corpus | reason")
    assert sorted((r[1], int(r[2])) for r in quarantine) == [("empty_text", 1), ("invalid_json", 3)]


def test_html_is_self_contained_with_png_images(planted):
    _, paths, data = planted
    page = paths["html"].read_text()
    assert "<link" not in page and "<script" not in page and "href=" not in page
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == len(data["figures"]) >= 6
    for source in sources:
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "url(" not in page and "@import" not in page


def test_run_is_recorded_with_its_counts(planted):
    store, _, data = planted
    run = store.rows("analysis/runs", {"limit": 10})[0]
    assert run["stage"] == "report" and run["status"] == "finished" and run["run_id"] == data["run_id"]
    assert json.loads(run["counts"])["findings"] == len(data["findings"]["items"])


def test_the_runs_table_shows_the_reports_own_run_as_this_report(planted):
    """It is read while the report's run is open: listed as "this report", never as "running"."""
    _, paths, data = planted
    (own,) = [r for r in data["methods"]["runs"] if r["run_id"] == data["run_id"]]
    assert own["status"] == "this report"
    runs_table = paths["markdown"].read_text().split("### Runs", 1)[1].split("\n\n", 2)[1]
    (line,) = [line for line in runs_table.splitlines() if line.startswith(f"| {data['run_id']} ")]
    assert "| this report |" in line and "running" not in runs_table


def test_empty_store_reports_what_is_missing(store, tmp_path):
    report = build_report(store, ReportConfig(**FAST))
    markdown = render_markdown(report.data)
    assert "no documents in the store: run `datacomp corpora prepare`" in markdown
    assert "`datacomp score --corpus NAME --encoder MODEL --decoder MODEL`" in markdown
    assert "`datacomp evaluate --compressor C --slice S --task reconstruction`" in markdown
    assert report.data["findings"]["items"] == [] and report.data["guidelines"]["items"] == []


def test_evaluations_without_scores_say_which_command_scores_them(store):
    populate(store, n_per_domain=5)
    store.con.execute("DELETE FROM scores")  # the test removes the planted scores
    report = build_report(store, ReportConfig(**FAST))
    skipped = report.data["findings"]["skipped"]
    assert any("0 of 15 evaluated documents have encoder or decoder scores" in s and
               "datacomp score --corpus NAME --encoder enc-abc123 --decoder dec0-abc123" in s for s in skipped)
    assert "Missing" in render_markdown(report.data)


def test_cli_writes_the_three_files_and_rejects_an_unknown_task(tmp_path, capsys):
    from datacomp.cli import main

    db = tmp_path / "cli.duckdb"
    open_store(db).close()
    main(["report", "--db", str(db), "--out", str(tmp_path / "out"), "--n-boot", "50"])
    for name in ("report.md", "report.html", "report.json"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--db", str(db), "--task", "qa"])
    assert exit_info.value.code == 2
    assert "--task 'qa' has no evaluations" in capsys.readouterr().err


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError, match="^alpha must lie strictly between 0 and 1, got 1.5"):
        ReportConfig(alpha=1.5)
    with pytest.raises(ConfigError, match="^quality_metric must be one of 'f1', 'em', 'bleu'"):
        ReportConfig(quality_metric="rouge")


def test_findings_are_deterministic_for_a_seed():
    from datacomp.analysis.findings import AnalysisSettings, compressor_analysis, with_predictors

    rng = np.random.default_rng(0)
    rows = [{"compressor_id": "c", "method": "autoencoder", "ratio": 4.0, "encoder_id": "e", "decoder_id": "d",
             "domain": ["a", "b"][i % 2], "n_chars": int(rng.integers(100, 1000)), "f1": float(rng.uniform()),
             "enc_entropy": float(rng.uniform(1, 4)), "dec_entropy": float(rng.uniform(1, 4)),
             "enc_surprisal": float(rng.uniform(1, 4)), "dec_surprisal": float(rng.uniform(1, 4)), "gap_js": None}
            for i in range(40)]
    rows, _ = with_predictors(rows)
    first = compressor_analysis(rows, AnalysisSettings(n_boot=100, seed=3))
    second = compressor_analysis(rows, AnalysisSettings(n_boot=100, seed=3))
    assert first["findings"] == second["findings"] and "gap_js" in first["missing_predictors"]


def test_number_formats():
    from datacomp.analysis.formatting import fmt, fmt_ci, fmt_p

    assert [fmt(0.123456), fmt(-0.0883), fmt(1234.6), fmt(12), fmt(None), fmt(float("nan"))] == \
        ["0.123", "-0.0883", "1\u2009235", "12", "–", "–"]
    assert [fmt_p(0.0), fmt_p(3.3e-223), fmt_p(0.0456), fmt_p(None)] == ["<1e-300", "3.3e-223", "0.046", "–"]
    assert fmt_ci(-0.5, None) == "[-0.5, –]" and fmt_ci(None, None) == "–"


def test_nll_reduction_is_one_minus_the_ratio_to_the_none_baseline(planted):
    """Per document, nll_reduction = 1 - target_nll(system) / target_nll(none) of the same evaluation and
    example, recomputed from the raw rows; a report on it finds the planted encoder-entropy effect."""
    from datacomp.analysis.report import make_report

    store, paths, _ = planted
    raw = store.con.execute("SELECT eval_id, system, example_id, doc_id, compressor_id, target_nll "
                            "FROM evaluations WHERE task = 'reconstruction'").fetchall()
    none = {(e, x): nll for e, system, x, _, _, nll in raw if system == "none"}
    expected = {(c, d): 1 - nll / none[(e, x)] for e, system, x, d, c, nll in raw if system == c}
    rows = store.rows("analysis/compressor_documents", {"task": "reconstruction"})
    assert len(rows) == len(expected)
    for row in rows:
        assert row["nll_reduction"] == pytest.approx(expected[(row["compressor_id"], row["doc_id"])])
    data = json.loads(make_report(store, ReportConfig(quality_metric="nll_reduction", figures=False, **FAST),
                                  paths["json"].parent.parent / "nll")["json"].read_text())
    enc = _find(data, "ae4-dec0", "enc_entropy", "spearman")   # the loss in NLL reduction rises with entropy
    assert enc["direction"] == "positive" and enc["significant"] and enc["n"] == 90




def test_findings_use_the_evaluated_windows_and_an_older_store_says_it_falls_back(planted, null):
    """The planted store has window scores (schema 008): the report's predictors are the windows' and it
    says so; the null store has none: every analysed compressor carries the fallback warning."""
    markdown = planted[1]["markdown"].read_text()
    assert all(a["predictors"]["source"] == "window" for a in planted[2]["findings"]["compressors"])
    assert "Predictors: window scores; length: log tokens of the evaluated window." in markdown
    assert "**Warning:** " not in markdown.split("## 3. Findings")[1].split("## 4.")[0]
    # the within-domain estimates are printed beside the pooled one
    analysis = next(a for a in planted[2]["findings"]["compressors"] if a["compressor_id"] == "ae4-dec0")
    partial = next(f for f in analysis["findings"] if f["kind"] == "partial" and f["x"] == "enc_entropy")
    assert (f"| enc_entropy | {partial['y']} | within domains (partial) | partial-spearman | "
            f"{_fmt(partial['estimate'])} | [{_fmt(partial['ci_low'])}, {_fmt(partial['ci_high'])}] |") in markdown
    assert f"| enc_entropy | {partial['y']} | within code | spearman |" in markdown
    old = null[1]["markdown"].read_text()
    for analysis in null[2]["findings"]["compressors"]:
        assert analysis["predictors"]["source"] == "document"
        assert (f"**Warning:** {analysis['label']}: predictors describe whole documents, not the evaluated windows"
                in old)


def test_the_models_table_says_which_models_read_their_context(store):
    """The restated-segment verdict of each model (the newest test per domain, averaged) beside its name;
    "not tested" for a model without one."""
    models = [{"model_id": f"{name}-1", "name": name, "path": f"/m/{name}", "n_params": 1000, "source": "folder"}
              for name in ("reader", "skimmer", "untested")]
    _insert(store, "models", models)
    tests = [("reader", "code", 4.2, 0.9), ("reader", "literature", 4.6, 1.1), ("skimmer", "code", 5.3, 5.1)]
    _insert(store, "copy_tests", [{"model_id": f"{m}-1", "domain": d, "segment_tokens": 64, "segments": 64,
                                   "first_nll": f, "restated_nll": r, "reads_context": r <= 1.5}
                                  for m, d, f, r in tests])
    report = build_report(store, ReportConfig(**FAST))
    verdicts = {m["name"]: m["copy_test"] for m in report.data["methods"]["models"]}
    assert verdicts["reader"]["first_nll"] == pytest.approx(4.4) and verdicts["reader"]["reads_context"] is True
    assert verdicts["skimmer"]["reads_context"] is False and verdicts["untested"] is None
    rows = {r[0]: r[3] for r in _markdown_table(render_markdown(report.data), "name | model id")}
    assert rows == {"reader": "yes (4.40 -> 1.00)", "skimmer": "no (5.30 -> 5.10)", "untested": "not tested"}


def test_the_report_writes_only_into_a_folder_it_may_and_leaves_other_files_alone(null, tmp_path):
    """A report folder is replaced only when it is a report's: an unmarked folder holding a report.md of the
    user's is refused (before any statistics: no run is recorded), other files beside a report survive."""
    import shutil

    from datacomp.analysis.report import Report, make_report, write_report
    from datacomp.errors import DatacompError
    from datacomp.ownership import MARKER, folder_command

    store, _, data = null
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "report.md").write_text("my own report")
    runs_before = store.con.execute("SELECT count(*) FROM runs WHERE stage = 'report'").fetchone()[0]
    with pytest.raises(DatacompError, match=f"^{mine} exists and was not written by datacomp report "
                                            f"\\(it has no {MARKER} marker\\)"):
        make_report(store, ReportConfig(figures=False, **FAST), mine)
    assert (mine / "report.md").read_text() == "my own report" and [p.name for p in mine.iterdir()] == ["report.md"]
    assert store.con.execute("SELECT count(*) FROM runs WHERE stage = 'report'").fetchone()[0] == runs_before

    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "data.csv").write_text("a,b\n")
    paths = write_report(Report(data=data, figures={}), shared)
    assert folder_command(shared) == "report" and (shared / "data.csv").read_text() == "a,b\n"
    assert json.loads(paths["json"].read_text()) == data
    # a report from before markers is recognised by its report.json and written over
    older = tmp_path / "older"
    shutil.copytree(shared, older)
    (older / MARKER).unlink()
    (older / "report.md").write_text("stale")
    write_report(Report(data=data, figures={}), older)
    assert (older / "report.md").read_text() != "stale" and folder_command(older) == "report"
