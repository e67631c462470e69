"""Render report.json's dict as Markdown and as one self-contained HTML page.

Both go through the same list of blocks (``report_blocks``), built only from the dict, with the number
formats of ``formatting.py``: the two renderings show the same numbers as the JSON, by construction.
HTML: inline CSS from reports/report.css, images as base64 data URIs, no external references.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from datacomp.analysis.formatting import fmt
from datacomp.analysis.render_results import evaluation_blocks, finding_blocks, missing, table
from datacomp.models.copy_test import verdict_text

FIGURE_CAPTIONS = {
    "length_hist": "Document length (log10 characters) by domain.",
    "entropy_hist": "Mean predictive entropy per document, by domain, one panel per scoring model.",
    "gap_heatmap": "Mean encoder-decoder gap per model pair, annotated with its value and n.",
    "quality_vs_ratio": "Mean quality per method against the measured compression ratio (95% BCa intervals of "
                        "each system, not comparisons: see the paired table); full and no context as horizontal "
                        "lines, truncation and token dropping as series.",
    "scatter": "Quality per document against encoder entropy, with the one-predictor regression's prediction "
               "(domain and length at their sample mix) and its 95% confidence band (t).",
    "binned": "Mean quality (points) in quantile bins of encoder entropy (left) and decoder entropy (right), 95% BCa "
              "intervals; a side without bins is left out, and the figure's title says why.",
}


def reports_dir() -> Path:
    """The reports/ folder with the HTML template and stylesheet (resources.data_dir: clone or wheel)."""
    from datacomp.resources import data_dir

    return data_dir("reports")


def _caption(name: str) -> str:
    return FIGURE_CAPTIONS.get(name, FIGURE_CAPTIONS.get(name.rsplit("_", 1)[0], name))


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.4g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def _short_json(value: Any, limit: int = 160) -> str:
    """Compact JSON (floats to 4 significant digits), cut at ``limit`` characters."""
    if value is None:
        return "–"
    text = json.dumps(_rounded(value), sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ----------------------------------------------------------------------------- blocks
def report_blocks(data: dict[str, Any]) -> list[tuple]:
    """Headings, paragraphs, tables, lists and figures, in order."""
    blocks: list[tuple] = [("h", 1, data["title"])]
    config = data["config"]
    evaluations = data["evaluations"]
    findings = data["findings"]
    scale = data["scale"]
    intro = (f"Generated {data['generated_at']} from store `{data['store']}`"
             + (f", run `{data['run_id']}`" if data.get("run_id") else "") + ". "
             f"Task: {evaluations.get('task') or '–'}; quality metric: {config['quality_metric']}; "
             f"target: {fmt(None if data['target'] is None else data['target'] * scale)} points; "
             f"alpha {fmt(config['alpha'])} with {config['correction']} correction within each compressor's "
             "family of primary tests.")
    blocks.append(("p", intro))
    primary = [f for f in findings["items"] if f["role"] == "primary"]
    n_significant = sum(1 for f in primary if f.get("significant"))
    guidelines = data["guidelines"]["items"]
    on_loss = any(a.get("outcome") == "loss" for a in findings.get("compressors", []))
    blocks.append(("p", f"Summary: {n_significant} of {len(primary)} primary tests significant after "
                        f"correction; {sum(g['supported'] for g in guidelines)} of {len(guidelines)} guidelines "
                        "supported by the data." + (" The data-centric findings are tested on the compression loss "
                                                    "(full-context quality minus the compressor's on the same "
                                                    "example), beside raw and full-context quality."
                                                    if on_loss else "")))
    claims = data["guidelines"].get("paper_claims") or []
    if claims:
        blocks.append(("p", "The findings of \"Data Distribution Matters\" (arXiv 2602.01778) on these data:"))
        blocks.append(table(["claim", "scope", "status", "evidence", "finding"],
                             [[c["claim"], c["scope"], c["status"], c["evidence"], c["finding_id"] or "–"]
                              for c in claims]))
    _audit_blocks(data, blocks)
    evaluation_blocks(data, blocks)
    finding_blocks(data, blocks)
    blocks.append(("h", 2, "4. Guidelines"))
    if not missing(data["guidelines"], blocks):
        blocks.append(("ul", [f"**{'Supported' if g['supported'] else 'Not supported'}** "
                              f"({g['topic']}, {g['scope']}): {g['text']}" for g in guidelines]))
    _provenance_blocks(data, blocks)
    return blocks


def _audit_blocks(data: dict[str, Any], blocks: list[tuple]) -> None:
    audit, scores, gaps = data["audit"], data["scores"], data["gaps"]
    blocks.append(("h", 2, "1. Data audit"))
    blocks.append(("h", 3, "Corpora"))
    if audit["corpora"]:
        blocks.append(table(["corpus", "domains", "documents", "characters", "source", "license"],
                             [[c["corpus"], c["domains"] or "–", c["n_docs"], c["n_chars"], c["source"] or "–",
                               c["license"] or "–"] for c in audit["corpora"]]))
        blocks.append(("p", f"Total: {fmt(audit['totals']['n_docs'])} documents, "
                            f"{fmt(audit['totals']['n_chars'])} characters."))
    missing(audit, blocks)
    blocks.append(("h", 3, "Quarantine"))
    if audit["quarantine"]:
        blocks.append(table(["corpus", "reason", "records", "example"],
                             [[q["corpus"], q["reason"], q["n"], q["example_detail"] or "–"]
                              for q in audit["quarantine"]]))
        blocks.append(("p", f"Total quarantined: {fmt(audit['quarantine_total'])} records."))
    else:
        blocks.append(("p", "No quarantined records."))
    if audit["length_by_domain"]:
        blocks.append(("h", 3, "Document length by domain (characters)"))
        blocks.append(table(["domain", "documents", "mean", "median", "p10", "p90", "max"],
                             [[d["domain"], d["n"], d["mean"], d["median"], d["p10"], d["p90"], d["max"]]
                              for d in audit["length_by_domain"]]))
        blocks.extend(("figure", name) for name in audit.get("figures", []))
    blocks.append(("h", 3, "Entropy and surprisal by domain"))
    if not missing(scores, blocks):
        blocks.append(table(["model", "window", "stride", "dtype", "documents scored", "null (reason stored)",
                              "rows at other settings"],
                             [[m["name"] or m["model_id"], m["window_len"], m["stride"], m["dtype"], m["n_scored"],
                               m["n_null"], m["n_other_settings"]] for m in scores["models"]]))
        blocks.append(table(["model", "domain", "documents", "entropy mean (nats/token)", "entropy median",
                              "surprisal mean (nats/token)", "bits per byte"],
                             [[r["model"], r["domain"], r["n"], r["entropy_mean"], r["entropy_median"],
                               r["surprisal_mean"], r["bits_per_byte_mean"]] for r in scores["by_domain"]]))
        blocks.extend(("figure", name) for name in scores.get("figures", []))
    blocks.append(("h", 3, "Encoder-decoder knowledge gap"))
    if not missing(gaps, blocks):
        blocks.append(table(["encoder", "decoder", "method", "documents", "JS (nats/token)", "KL(enc||dec)",
                              "KL(dec||enc)", "bpb difference"],
                             [[p["encoder_name"], p["decoder_name"], p["method"], p["n"], p["js_mean"],
                               p["kl_enc_dec_mean"], p["kl_dec_enc_mean"], p["bpb_diff_mean"]]
                              for p in gaps["pairs"]]))
        blocks.extend(("figure", name) for name in gaps.get("figures", []))


def _provenance_blocks(data: dict[str, Any], blocks: list[tuple]) -> None:
    methods = data["methods"]
    blocks.append(("h", 2, "5. Methods and provenance"))
    blocks.append(("ul", methods["statistics"]))
    blocks.append(("h", 3, "Models"))
    if methods["models"]:
        blocks.append(("p", "Reads its context: the restated-segment test (`datacomp models copy-test`): the mean "
                            "NLL (nats/token) of held-out 64-token segments read once -> restated right after; "
                            "a model reads its context when the restatement costs <= 1.5 and at least 1 less. "
                            "Compression through a decoder that does not is not testable."))
        blocks.append(table(["name", "model id", "parameters", "reads its context", "architecture", "mixture",
                             "training"],
                            [[m["name"], m["model_id"], m["n_params"], verdict_text(m.get("copy_test")),
                              m["architecture"] or "–", _short_json(m["mixture"]), _short_json(m["train_info"], 120)]
                             for m in methods["models"]]))
    else:
        blocks.append(("p", "No models registered."))
    blocks.append(("h", 3, "Compressors"))
    if methods["compressors"]:
        blocks.append(table(["compressor", "method", "ratio", "encoder", "decoder", "train slice", "training"],
                             [[c["compressor_id"], c["method"], c["ratio"], c["encoder_name"], c["decoder_name"],
                               c["train_slice"] or "–", _short_json(c["train_info"], 120)]
                              for c in methods["compressors"]]))
    else:
        blocks.append(("p", "No compressors trained."))
    blocks.append(("h", 3, "Runs"))
    if methods["runs"]:
        blocks.append(table(["run", "stage", "status", "seed", "started", "config"],
                             [[r["run_id"], r["stage"], r["status"], r["seed"], str(r["started_at"]),
                               _short_json(r["config"])] for r in methods["runs"]]))
    else:
        blocks.append(("p", "No runs recorded."))
    env = methods["environment"]
    versions = ", ".join(f"{k} {v}" for k, v in sorted(env.get("packages", {}).items()) if v)
    blocks.append(("p", f"Report environment: Python {env.get('python')} on {env.get('platform')}; {versions}."))
    blocks.append(("p", f"Report configuration: `{_short_json(data['config'], 400)}`."))


# ----------------------------------------------------------------------------- Markdown
def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(data: dict[str, Any]) -> str:
    lines: list[str] = []
    for block in report_blocks(data):
        kind = block[0]
        if kind == "h":
            lines += ["#" * block[1] + " " + block[2], ""]
        elif kind == "p":
            lines += [block[1], ""]
        elif kind == "missing":
            lines += [f"> **Missing:** {block[1]}", ""]
        elif kind == "ul":
            lines += [f"- {item}" for item in block[1]] + [""]
        elif kind == "table":
            headers, rows = block[1], block[2]
            lines.append("| " + " | ".join(_md_cell(h) for h in headers) + " |")
            lines.append("|" + "---|" * len(headers))
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            lines.append("")
        elif kind == "figure":
            lines += [f"![{_caption(block[1])}](figures/{block[1]}.png)", "", f"*{_caption(block[1])}*", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- HTML
def _inline(text: str) -> str:
    """Escape, then the two Markdown inline forms the blocks use: **bold** and `code`."""
    import re

    escaped = html.escape(text)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", escaped)


def render_html(data: dict[str, Any], figures: dict[str, bytes]) -> str:
    parts: list[str] = []
    for block in report_blocks(data):
        kind = block[0]
        if kind == "h":
            parts.append(f"<h{block[1]}>{_inline(block[2])}</h{block[1]}>")
        elif kind == "p":
            parts.append(f"<p>{_inline(block[1])}</p>")
        elif kind == "missing":
            parts.append(f'<p class="missing"><strong>Missing:</strong> {_inline(block[1])}</p>')
        elif kind == "ul":
            parts.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in block[1]) + "</ul>")
        elif kind == "table":
            head = "".join(f"<th>{html.escape(h)}</th>" for h in block[1])
            body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in block[2])
            parts.append(f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>')
        elif kind == "figure":
            name = block[1]
            encoded = base64.b64encode(figures[name]).decode("ascii")
            parts.append(f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{encoded}">'
                         f"<figcaption>{html.escape(_caption(name))}</figcaption></figure>")
    folder = reports_dir()
    template = (folder / "report.html").read_text(encoding="utf-8")
    css = (folder / "report.css").read_text(encoding="utf-8")
    return (template.replace("{{title}}", html.escape(data["title"])).replace("{{css}}", css)
            .replace("{{body}}", "\n".join(parts)))
