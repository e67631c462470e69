"""The report end to end on planted data: findings, guidelines that follow the numbers, JSON = Markdown,
a self-contained HTML page, sections that say what is missing."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest
from scipy import stats as sps

from datacomp.analysis.render import finding_row, render_markdown
from datacomp.analysis.report import ReportConfig, build_report
from datacomp.store import open_store

from conftest import FAST, populate

def _find(data, group_part, x, method):
    return next(f for f in data["findings"]["items"]
                if group_part in f["group"] and f["x"] == x and f["method"] == method)


def _guideline(data, topic, scope_part):
    return next(g for g in data["guidelines"]["items"] if g["topic"] == topic and scope_part in g["scope"])


def test_planted_effects_are_found(planted):
    _, _, data = planted
    enc = _find(data, "ae4-dec0", "enc_entropy", "spearman")
    dec = _find(data, "ae4-dec0", "dec_entropy", "spearman")
    assert enc["direction"] == "negative" and enc["significant"] and enc["n"] == 90
    assert not dec["significant"] and dec["verdict"].startswith("not significant")
    slope = _find(data, "ae4-dec0", "enc_entropy", "ols-hc3 slope")
    assert -0.11 < slope["estimate"] < -0.07  # planted -0.1 per nat, attenuated a little by clipping at F1 = 1
    adjusted = [f["p_adjusted"] for f in data["findings"]["items"]]
    assert all(a is None or a >= f["p_value"] for a, f in zip(adjusted, data["findings"]["items"]))


def test_finding_matches_an_independent_computation_from_the_raw_tables(planted):
    store, _, data = planted
    frame = store.con.table("evaluations").filter("system = 'ae4-dec0'").df()
    scores = store.con.table("scores").filter("model_id = 'enc-abc123'").df()
    joined = frame.merge(scores, on="doc_id")
    expected = sps.spearmanr(joined["entropy_mean"], joined["f1"])
    finding = _find(data, "ae4-dec0", "enc_entropy", "spearman")
    assert finding["estimate"] == pytest.approx(expected.statistic, rel=1e-10)
    assert finding["p_value"] == pytest.approx(expected.pvalue, rel=1e-6)


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
    assert gap["supported"] and gap["text"].startswith("Match the decoder to the encoder")
    slope = gap["basis"]["slope"]
    assert -0.75 < slope["estimate"] < -0.45  # planted -0.6 F1 per nat of JS


def test_domain_guideline_names_the_lowest_domain_from_the_numbers(planted):
    _, _, data = planted
    finding = _find(data, "ae4-dec0", "domain", "kruskal-wallis H")
    analysis = next(a for a in data["findings"]["compressors"] if a["compressor_id"] == "ae4-dec0")
    by_domain = {d["domain"]: d for d in analysis["by_domain"]}
    groups = {}
    for f1, domain in zip(*_raw_quality(planted[0], "ae4-dec0")):
        groups.setdefault(domain, []).append(f1)
    assert finding["estimate"] == pytest.approx(sps.kruskal(*groups.values()).statistic, rel=1e-10)
    assert {d: by_domain[d]["mean"] for d in groups} == pytest.approx({d: np.mean(v) for d, v in groups.items()})
    guideline = _guideline(data, "domain", "ae4-dec0")
    lowest = min(groups, key=lambda d: np.mean(groups[d]))
    assert guideline["supported"] == finding["significant"]
    assert f"lowest {lowest} {_fmt(np.mean(groups[lowest]) * 100)} points" in guideline["text"]


def _raw_quality(store, system):
    frame = store.con.table("evaluations").filter(f"system = '{system}'").df()
    documents = store.con.table("documents").df()[["doc_id", "domain"]]
    joined = frame.merge(documents, on="doc_id")
    return joined["f1"].to_numpy(), joined["domain"].to_numpy()


def test_paper_claims_follow_the_planted_effects(planted, null):
    def status(data, claim_start, scope_part):
        return next(c["status"] for c in data["guidelines"]["paper_claims"]
                    if c["claim"].startswith(claim_start) and scope_part in c["scope"])

    assert status(planted[2], "1: encoder", "ae4-dec0") == "reproduced"
    assert status(planted[2], "1: decoder", "ae4-dec0") == "reproduced"
    # the frozen-decoder claim does not apply where the compressor tuned its decoder (decoder_lora)
    assert status(planted[2], "1: decoder", "ae4-dec3") == "not applicable (this compressor tunes its decoder)"
    assert status(planted[2], "1: encoder", "ae4-dec3") == "reproduced"
    assert status(planted[2], "2:", "autoencoder") == "reproduced"
    assert status(null[2], "1: encoder", "ae4-dec0") == "not reproduced (not significant)"
    assert status(null[2], "2:", "autoencoder") == "not reproduced (not significant)"
    assert "| 1: encoder entropy correlates negatively with quality | autoencoder 4x (ae4-dec0) | reproduced |" \
        in planted[1]["markdown"].read_text()


def test_no_effect_gives_not_significant_wording(null):
    _, paths, data = null
    guideline = _guideline(data, "encoder entropy threshold", "ae4-dec0")
    assert not guideline["supported"]
    assert guideline["text"].startswith("No encoder-entropy threshold") and "not significant" in guideline["text"]
    assert "falls below" not in guideline["text"]
    assert data["figures"] == [] and "<img" not in paths["html"].read_text()
    gap = _guideline(data, "knowledge gap", "autoencoder")
    assert not gap["supported"] and "the gap effect is not significant" in gap["text"]


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
        if finding["estimate"] is not None:  # the printed number is the JSON number, rounded to 3 digits
            assert float(row[5].replace("\u2009", "")) == pytest.approx(finding["estimate"], rel=5e-3, abs=1e-12)
            if finding["ci_low"] is None:  # Kruskal-Wallis H has no interval
                assert row[6] == "–" and finding["method"] == "kruskal-wallis H"
            else:
                low, high = (float(v) for v in row[6].strip("[]").split(","))
                assert low == pytest.approx(finding["ci_low"], rel=5e-3)
                assert high == pytest.approx(finding["ci_high"], rel=5e-3)
            if finding["p_value"] == 0:
                assert row[7] == "<1e-300"
            else:
                assert float(row[7]) == pytest.approx(finding["p_value"], rel=5e-2)
        assert int(row[9].replace("\u2009", "")) == finding["n"]
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


def test_empty_store_reports_what_is_missing(store, tmp_path):
    report = build_report(store, ReportConfig(**FAST))
    markdown = render_markdown(report.data)
    assert "no documents in the store: run `datacomp corpora prepare`" in markdown
    assert "`datacomp score --corpus NAME --encoder MODEL --decoder MODEL`" in markdown
    assert "`datacomp evaluate --compressor C --slice S --task reconstruction`" in markdown
    assert report.data["findings"]["items"] == [] and report.data["guidelines"]["items"] == []


def test_evaluations_without_scores_say_which_command_scores_them(store):
    populate(store, n_per_domain=5)
    store.con.execute("DELETE FROM scores")  # noqa: the test removes the planted scores
    report = build_report(store, ReportConfig(**FAST))
    skipped = report.data["findings"]["skipped"]
    assert any("0 of 15 evaluated documents have encoder scores" in s and
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


def test_config_errors_name_the_option(store):
    with pytest.raises(Exception, match="--alpha must be between 0 and 1"):
        build_report(store, ReportConfig(alpha=1.5))
    with pytest.raises(Exception, match="--quality-metric must be one of f1, em, bleu"):
        build_report(store, ReportConfig(quality_metric="rouge"))


def test_findings_are_deterministic_for_a_seed():
    from datacomp.analysis.findings import AnalysisSettings, compressor_analysis

    rng = np.random.default_rng(0)
    rows = [{"compressor_id": "c", "method": "autoencoder", "ratio": 4.0, "encoder_id": "e", "decoder_id": "d",
             "domain": ["a", "b"][i % 2], "n_chars": int(rng.integers(100, 1000)), "f1": float(rng.uniform()),
             "enc_entropy": float(rng.uniform(1, 4)), "dec_entropy": float(rng.uniform(1, 4)),
             "enc_surprisal": float(rng.uniform(1, 4)), "dec_surprisal": float(rng.uniform(1, 4)), "gap_js": None}
            for i in range(40)]
    first = compressor_analysis(rows, AnalysisSettings(n_boot=100, seed=3))
    second = compressor_analysis(rows, AnalysisSettings(n_boot=100, seed=3))
    assert first["findings"] == second["findings"] and "gap_js" in first["missing_predictors"]


def test_number_formats():
    from datacomp.analysis.formatting import fmt, fmt_ci, fmt_p

    assert [fmt(0.123456), fmt(-0.0883), fmt(1234.6), fmt(12), fmt(None), fmt(float("nan"))] == \
        ["0.123", "-0.0883", "1\u2009235", "12", "–", "–"]
    assert [fmt_p(0.0), fmt_p(3.3e-223), fmt_p(0.0456), fmt_p(None)] == ["<1e-300", "3.3e-223", "0.046", "–"]
    assert fmt_ci(-0.5, None) == "[-0.5, –]" and fmt_ci(None, None) == "–"


def test_method_choice_compares_with_the_cheap_baselines():
    from datacomp.analysis.guidelines import method_choice

    def row(kind, system, method, mean, low, high):
        return {"kind": kind, "system": system, "method": method, "ratio_target": 4.0, "mean": mean, "ci_low": low,
                "ci_high": high, "n": 50, "gain": None, "full_mean": None, "none_mean": None}

    rows = [row("compressor", "sac-1", "sac", 0.7, 0.65, 0.75), row("compressor", "ae-1", "autoencoder", 0.5, 0.45, 0.55),
            row("baseline", "truncate", "truncate", 0.3, 0.28, 0.32)]
    reads = [{"compressor_id": "sac-1", "decoder": "full", "reads_context": True, "difference": 0.3,
              "ci_low": 0.2, "ci_high": 0.4}]
    [unknown] = method_choice(rows, metric="f1", scale=100)   # no full / none: context use unknown
    assert not unknown["supported"] and "whether its decoder reads its context is unknown here" in unknown["text"]
    [clear] = method_choice(rows, metric="f1", scale=100, context_use=reads)
    assert clear["supported"] and clear["text"].startswith("At 4x, sac (sac-1) scored highest: F1 70 points")
    assert "next autoencoder (ae-1) at 50; truncate 30." in clear["text"]
    rows[2] = row("baseline", "truncate", "truncate", 0.8, 0.78, 0.82)
    [beaten] = method_choice(rows, metric="f1", scale=100, context_use=reads)
    assert not beaten["supported"] and "no trained compressor beats truncate at this budget" in beaten["text"]
    [alone] = method_choice(rows[:1], metric="f1", scale=100)
    assert not alone["supported"] and "only compressor evaluated at this ratio and no baseline" in alone["text"]


def test_method_choice_rests_on_paired_differences_and_on_a_decoder_that_reads_its_context():
    from datacomp.analysis.guidelines import method_choice

    rows = [{"kind": "compressor", "system": "sac-1", "method": "sac", "ratio_target": 4.0, "mean": 0.2,
             "ci_low": 0.19, "ci_high": 0.22, "n": 100, "gain": None, "full_mean": None, "none_mean": None},
            {"kind": "baseline", "system": "drop", "method": "drop", "ratio_target": 4.0, "mean": 0.09,
             "ci_low": 0.08, "ci_high": 0.1, "n": 100, "gain": None, "full_mean": None, "none_mean": None}]
    def pair(b, mean, low, high):
        return {"a": "sac-1", "b": b, "metric": "nll_reduction", "mean": mean, "ci_low": low, "ci_high": high,
                "excludes_zero": low > 0 or high < 0}
    reads = [{"compressor_id": "sac-1", "decoder": "full", "reads_context": True, "difference": 0.3,
              "ci_low": 0.27, "ci_high": 0.32}]
    [won] = method_choice(rows, metric="nll_reduction", scale=100, paired=[pair("drop", 0.118, 0.104, 0.131)],
                          context_use=reads)
    assert won["supported"] and "vs drop on the same examples 11.8 points, 95% CI [10.4, 13.1]: higher" in won["text"]
    [tie] = method_choice(rows, metric="nll_reduction", scale=100, paired=[pair("drop", 0.01, -0.01, 0.03)],
                          context_use=reads)
    assert not tie["supported"] and "not different (CI includes 0)" in tie["text"]
    deaf = [{**reads[0], "reads_context": False, "difference": 0.004, "ci_low": -0.002, "ci_high": 0.01}]
    [floor] = method_choice(rows, metric="nll_reduction", scale=100, paired=[pair("drop", 0.118, 0.104, 0.131)],
                            context_use=deaf)
    assert not floor["supported"] and "does not use its context here" in floor["text"]
    # a decoder-tuning compressor is judged on its own (tuned) decoder: full@tuned vs none@tuned
    tuned = deaf + [{**reads[0], "decoder": "full@tuned"}]
    [own] = method_choice(rows, metric="nll_reduction", scale=100, paired=[pair("drop", 0.118, 0.104, 0.131)],
                          context_use=tuned)
    assert own["supported"] and "does not use its context" not in own["text"]


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
    enc = _find(data, "ae4-dec0", "enc_entropy", "spearman")
    assert enc["direction"] == "negative" and enc["significant"] and enc["n"] == 90


def test_tuned_decoder_baselines_are_never_pooled_across_compressors():
    """full@tuned of two compressors are two rows (each its own tuned decoder), truncate@tuned's gain is
    read against its own full@tuned / none@tuned, and plain baselines still pool."""
    from datacomp.analysis.report import _methods_table

    def row(system, compressor, example, f1):
        return {"system": system, "compressor_id": compressor, "example_id": example, "f1": f1,
                "ratio_target": 4.0, "compressor_method": None, "method": system, "compressor_ratio": None,
                "ratio_actual": 4.0, "compress_ms": 1.0}

    rows = []
    for c, (full, none, trunc) in (("comi-a", (0.8, 0.2, 0.5)), ("meanpool-b", (0.2, 0.0, 0.1))):
        for e in ("e1", "e2"):
            rows += [row("full@tuned", c, e, full), row("none@tuned", c, e, none), row("truncate@tuned", c, e, trunc),
                     row("full", c, e, 0.6), row("none", c, e, 0.1)]
    table = {r["system"]: r for r in _methods_table(rows, "f1", 0.95)}
    assert table["full@tuned (comi-a)"]["mean"] == pytest.approx(0.8)
    assert table["full@tuned (meanpool-b)"]["mean"] == pytest.approx(0.2)
    assert table["truncate@tuned (comi-a)"]["gain"] == pytest.approx((0.5 - 0.2) / (0.8 - 0.2))
    assert table["truncate@tuned (meanpool-b)"]["gain"] == pytest.approx(0.5)
    assert table["full"]["mean"] == pytest.approx(0.6) and table["full"]["n"] == 4


def test_one_model_as_encoder_and_decoder_is_tested_once():
    """SAC compresses with a copy of its decoder: decoder-side columns repeat the encoder's and would enter the
    regression twice (a perfectly collinear pair); they are dropped and the analysis says why."""
    from datacomp.analysis.findings import AnalysisSettings, compressor_analysis

    rng = np.random.default_rng(1)
    rows = []
    for i in range(40):
        entropy = float(rng.uniform(1, 4))
        rows.append({"compressor_id": "c", "method": "sac", "ratio": 4.0, "encoder_id": "m", "decoder_id": "m",
                     "domain": ["a", "b"][i % 2], "n_chars": int(rng.integers(100, 1000)),
                     "f1": 1 - entropy / 5 + float(rng.normal(0, 0.05)), "enc_entropy": entropy,
                     "dec_entropy": entropy, "enc_surprisal": entropy, "dec_surprisal": entropy, "gap_js": None})
    analysis = compressor_analysis(rows, AnalysisSettings(n_boot=100))
    assert analysis["same_model"]
    assert not any(f["x"].startswith("dec_") for f in analysis["findings"])
    assert [t["term"] for t in analysis["ols"]["terms"] if "entropy" in t["term"]] == ["enc_entropy"]


def test_coverage_counts_evaluated_documents_per_domain_and_warns_on_a_missing_one(store):
    from datacomp.analysis.report import coverage_warnings
    from datacomp.curation.slices import create_slice

    for i, domain in enumerate(["code", "code", "poetry", "poetry", "poetry"]):
        store.run("scoring/fixture_document", {"doc_id": f"d{i}", "corpus": "c", "domain": domain,
                                               "text": f"text {i}", "source": "t"})
    create_slice(store, "held", "domain", {"domains": ["code", "poetry"]})
    for doc in ("d0", "d1"):   # only code documents evaluated
        store.run("evaluation/insert", {
            "eval_id": "e1", "run_id": "r", "system": "full", "compressor_id": None, "method": "full",
            "decoder_id": "m", "task": "qa", "example_id": f"x-{doc}", "doc_id": doc, "eval_slice": "held",
            "ratio_target": 4.0, "ratio_actual": 1.0, "n_context_tokens": 8, "n_slots": 8, "memory_bytes": 1,
            "f1": 0.5, "em": 0.0, "bleu": 0.0, "target_nll": 1.0, "compress_ms": 0.0, "decode_ms": 1.0,
            "prediction": "p", "reference": "r"})
    coverage = store.rows("analysis/evaluation_coverage", {"task": "qa"})
    assert [(c["domain"], c["n_evaluated"], c["n_available"]) for c in coverage] == [("code", 2, 2), ("poetry", 0, 3)]
    assert coverage_warnings(coverage) == ["e1: no poetry document evaluated (3 in its slice)"]
