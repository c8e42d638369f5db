"""``ablation/report.html``: one self-contained page (inline CSS and SVG, nothing from the network)."""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

from winnow.evaluate.charts import dot_chart, line_chart
from winnow.evaluate.results import AblationResult, SizeSummary

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#233b5d;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.85}main{padding:0 28px 40px;max-width:1100px}
section{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:4px 18px 14px;margin:18px 0}
h2{font-size:18px;color:#233b5d}table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border-bottom:1px solid #e3e7ec;padding:3px 10px;text-align:left}th{background:#f1f4f7}
td.n{text-align:right;font-variant-numeric:tabular-nums}.verdict{font-size:16px;font-weight:600;color:#233b5d}
.chart text{font-size:11px;fill:#333}.chart .legend{font-size:12px}.chart .grid{stroke:#e3e7ec}
.empty,.note{color:#667;font-style:italic}
"""


def write_ablation_report(result: AblationResult, path: str | Path) -> None:
    Path(path).write_text(render(result), encoding="utf-8")


def render(result: AblationResult) -> str:
    parts = [_overview(result)]
    parts += [_size_section(result, s) for s in result.sizes]
    parts.append(_variants(result))
    body = "".join(f"<section>{p}</section>" for p in parts)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Winnow ablation</title>'
        f"<style>{CSS}</style></head><body><header><h1>Winnow ablation: does the data make a better model?</h1>"
        f"<p>baseline {escape(result.baseline)} · {len(result.config.seeds)} seeds · "
        f"{result.config.tokens:,} training tokens per run · {result.wall_seconds:,.0f} s</p></header>"
        f"<main>{body}</main></body></html>"
    )


def _overview(result: AblationResult) -> str:
    items = []
    for summary in result.sizes:
        for sentence in summary.verdicts.values():
            items.append(f"<li><b>{escape(summary.size)}</b>: {escape(sentence)}</li>")
    if result.ranking_holds is None:
        check = "one model size only: the ranking was not checked at a second size"
    else:
        rankings = "; ".join(f"{s.size}: {' < '.join(s.ranking)}" for s in result.sizes)
        check = f"ranking by mean bpb {'holds' if result.ranking_holds else 'does NOT hold'} across sizes ({rankings})"
    sets = sorted({e for s in result.sizes for e in s.verdict_sets})
    basis = (
        f"The verdict and the ranking use only the bits-per-byte sets kept aside from every variant: {', '.join(sets)}. "
        if sets
        else "No bits-per-byte set is kept aside from every variant (kind: text), so there is no verdict. "
    )
    basis += (
        "Each variant's own held-out split (heldout/…) is in the tables but not in the verdict: it differs per variant."
    )
    return (
        "<h2>Verdict</h2>"
        f'<ul class="verdict">{"".join(items) or "<li>one variant: nothing to compare</li>"}</ul>'
        f"<p>{escape(check)}</p><p>{escape(basis)}</p>"
        '<p class="note">bpb = bits per UTF-8 byte of the eval text (lower is better, tokenizer-independent); '
        "differences are paired by seed (same initial weights and batch positions), with a 95% Student t interval.</p>"
    )


def _size_section(result: AblationResult, summary: SizeSummary) -> str:
    runs = [r for r in result.runs if r.size == summary.size]
    params = runs[0].parameters if runs else 0
    curves = {
        v: [[(p.tokens, p.loss) for p in r.curve] for r in runs if r.variant == v]
        for v in dict.fromkeys(r.variant for r in runs)
    }
    sets = list(dict.fromkeys(s.eval_set for r in runs for s in r.scores))
    metric = {s.eval_set: s.metric for r in runs for s in r.scores}
    chance = {s.eval_set: s.chance for r in runs for s in r.scores if s.chance is not None}
    header = "".join(f"<th>{escape(v)}</th>" for v in summary.cells)
    rows = []
    for e in sets:
        cells = "".join(
            f'<td class="n">{summary.cells[v][e].mean:.4f} ± {summary.cells[v][e].std:.4f}</td>'
            if e in summary.cells[v]
            else "<td></td>"
            for v in summary.cells
        )
        note = f" (chance {chance[e]:.3f})" if e in chance else ""
        rows.append(f"<tr><td>{escape(e)}</td><td>{metric[e]}{note}</td>{cells}</tr>")
    bpb_sets = [e for e in sets if metric[e] == "bpb"]
    dots = {v: [(summary.cells[v][e].mean, summary.cells[v][e].std) for e in bpb_sets] for v in summary.cells}
    return (
        f"<h2>Model size {escape(summary.size)} ({params:,} parameters)</h2>"
        + line_chart(curves, f"training loss, {summary.size}", "training tokens", "loss (nats/token)")
        + f"<table><tr><th>eval set</th><th>metric</th>{header}</tr>{''.join(rows)}</table>"
        + dot_chart(bpb_sets, dots, f"bits per byte, mean ± std over seeds ({summary.size})")
        + _differences(summary)
    )


def _differences(summary: SizeSummary) -> str:
    if not summary.differences:
        return ""
    rows = []
    for d in summary.differences:
        half = "∞" if math.isinf(d.half_width) else f"{d.half_width:.4f}"
        rows.append(
            f"<tr><td>{escape(d.variant)} − {escape(d.baseline)}</td><td>{escape(d.eval_set)}</td><td>{d.metric}</td>"
            f'<td class="n">{d.mean:+.4f} ± {half}</td><td class="n">{d.better_seeds} of {d.n}</td>'
            f"<td>{'better' if d.better else 'worse'}{' (significant)' if d.significant else ''}</td></tr>"
        )
    return (
        "<h3>Paired differences (variant − baseline, 95% interval)</h3><table><tr><th>pair</th><th>eval set</th>"
        f"<th>metric</th><th>difference</th><th>seeds better</th><th></th></tr>{''.join(rows)}</table>"
    )


def _variants(result: AblationResult) -> str:
    rows = "".join(
        f'<tr><td>{escape(v.name)}</td><td><code>{escape(v.data)}</code></td><td class="n">{v.train_documents:,}</td>'
        f'<td class="n">{v.train_tokens:,}</td><td class="n">{result.config.tokens / max(1, v.train_tokens):.2f}</td></tr>'
        for v in result.variants
    )
    speed = [r.tokens_per_second for r in result.runs if r.tokens_per_second]
    device = result.runs[0].device if result.runs else "?"
    return (
        "<h2>Variants</h2><p>Every variant is tokenised with the same tokenizer; every run draws the same number "
        "of training tokens (random windows, with replacement, from the variant's train split).</p>"
        "<table><tr><th>variant</th><th>data</th><th>train documents</th><th>train tokens</th>"
        f"<th>epochs at the budget</th></tr>{rows}</table>"
        f'<p class="note">device {escape(device)}; median training speed '
        f"{sorted(speed)[len(speed) // 2] if speed else 0:,.0f} tokens/s</p>"
    )
