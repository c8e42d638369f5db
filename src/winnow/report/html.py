"""``winnow report OUT -o report.html``: one self-contained HTML page about a run.

Everything is inline (CSS, SVG charts, a few lines of JS to sort tables): the file opens
offline, can be mailed or attached to a dataset, and loads nothing from the network."""

from __future__ import annotations

import json
from collections import Counter
from html import escape
from pathlib import Path
from typing import Any

from winnow.manifest import Manifest, Section, SourceCounts
from winnow.report import svg
from winnow.report.mixture import mixture_of
from winnow.report.stats import run_summary, step_chars_funnel

TOP = 25  # rows of the source/licence/language charts; the rest are summed as "other"

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#233b5d;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.85}nav{padding:6px 28px;background:#e8edf3;font-size:13px}
nav a{margin-right:14px;color:#233b5d}main{padding:0 28px 40px;max-width:1100px}
section{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:4px 18px 14px;margin:18px 0}
h2{font-size:18px;color:#233b5d}table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border-bottom:1px solid #e3e7ec;padding:3px 10px;text-align:left;vertical-align:top}
th{background:#f1f4f7;cursor:pointer;user-select:none}td.n{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}.card{background:#f1f4f7;border-radius:6px;padding:8px 14px}
.card b{display:block;font-size:20px;color:#233b5d}.chart text{font-size:11px;fill:#333}.chart .legend{font-size:12px}
.chart .grid{stroke:#e3e7ec}.empty,.note{color:#667;font-style:italic}
details{margin:4px 0}summary{cursor:pointer}pre{white-space:pre-wrap;background:#f6f8fa;padding:8px;
border-radius:4px;max-height:220px;overflow:auto;font-size:12px}code{font-size:12px}
"""

# Sort a table by a column when its header is clicked (numbers numerically).
SCRIPT = """
document.querySelectorAll("table.sortable th").forEach(function (th, column) {
  th.addEventListener("click", function () {
    var body = th.closest("table").tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var descending = th.dataset.order !== "desc";
    th.dataset.order = descending ? "desc" : "asc";
    var key = function (row) {
      var text = row.cells[th.cellIndex].textContent.trim();
      var number = parseFloat(text.replace(/,/g, ""));
      return isNaN(number) ? text.toLowerCase() : number;
    };
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      return (x < y ? -1 : x > y ? 1 : 0) * (descending ? -1 : 1);
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
"""


def write_report(out_dir: str, output: str) -> None:
    """Write the self-contained HTML report of the run in ``out_dir`` to ``output``."""
    page = render_report(run_summary(out_dir))
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_text(page, encoding="utf-8")


def render_report(summary: dict[str, Any]) -> str:
    m: Manifest = summary["manifest"]
    sections = [
        ("summary", "Summary", _summary(summary)),
        ("funnel", "Funnel: documents and characters through each step", _funnel(summary)),
        ("drops", "Drops by reason", _drops(summary)),
        ("lengths", "Length distribution", _lengths(summary)),
        ("languages", "Languages", _languages(summary)),
        *([("conversations", "Conversations", _conversations(summary))] if summary.get("conversations") else []),
        ("sources", "Sources", _by_key(m.by_source, "source")),
        ("licenses", "Licences", _by_key(m.by_license, "licence") + _renamed_licenses(m)),
        ("duplicates", "Duplicates", _duplicates(summary)),
        ("pii", "Personal data (PII)", _pii(summary)),
        ("mixture", "Mixture, splits and tokens", _mixture(summary)),
        ("examples", "Examples of dropped documents", _examples(summary)),
        ("quarantine", "Quarantined input", _quarantine(summary)),
        ("steps", "Steps and parameters", _steps(m)),
    ]
    nav = "".join(f'<a href="#{key}">{escape(title.split(":")[0])}</a>' for key, title, _ in sections)
    body = "".join(f'<section id="{key}"><h2>{escape(title)}</h2>{html}</section>' for key, title, html in sections)
    title = f"Winnow report: {summary['out_dir']}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p>winnow {escape(m.winnow_version or '?')} · "
        f"{escape(m.executor or '?')} executor, {m.workers or '?'} workers · "
        f"{escape(str(m.started_at or '?'))} → {escape(str(m.finished_at or '?'))}</p></header>"
        f"<nav>{nav}</nav><main>{body}</main><script>{SCRIPT}</script></body></html>"
    )


# -- sections ---------------------------------------------------------------------------------


def _cards(items: list[tuple[str, Any]]) -> str:
    return (
        '<div class="cards">'
        + "".join(f'<div class="card"><b>{_n(v)}</b>{escape(k)}</div>' for k, v in items)
        + "</div>"
    )


def _summary(s: dict[str, Any]) -> str:
    m: Manifest = s["manifest"]
    counts = m.counts
    items = [
        ("input documents", counts.input),
        ("kept documents", counts.kept),
        ("rejected documents", counts.rejected),
        ("quarantined rows", counts.quarantined),
        ("kept characters", s["kept"]["chars"]),
        ("kept words", s["kept"]["words"]),
    ]
    if s.get("tokens"):
        items.append(("tokens (tokenize)", s["tokens"]["tokens"]))
    items += [("wall seconds", m.wall_seconds), ("CPU seconds", m.cpu_seconds)]
    inputs = _table(
        ["input", "source", "licence", "files", "bytes"],
        [
            [
                i.path,
                i.source,
                i.license,
                len(i.files),
                sum(f.get("bytes", 0) for f in i.files),
            ]
            for i in m.inputs
        ],
    )
    return _cards(items) + inputs


def _funnel(s: dict[str, Any]) -> str:
    rows = step_chars_funnel(s)
    if not rows:
        return '<p class="empty">the recipe has no steps</p>'
    m: Manifest = s["manifest"]
    input_chars = sum(v.input_chars for v in m.by_source.values())
    labels = ["input"] + [r["name"] for r in rows]
    docs = [m.counts.input] + [r["out"] for r in rows]
    chart = svg.bar_chart(labels, [docs], title="documents after each step")
    # Characters after step k: what is finally kept plus what later steps dropped (each measured
    # as it was when dropped), so rewriting steps show as the gap between "input" and the first step.
    after = [s["kept"]["chars"] + sum(r["dropped_chars"] for r in rows[k + 1 :]) for k in range(len(rows))]
    if all("chars_out" in r for r in rows):
        after = [r["chars_out"] for r in rows]  # measured by the executor after each step
    chars_chart = svg.bar_chart(
        labels,
        [[input_chars, *after], [0] + [r["dropped_chars"] for r in rows]],
        ["characters after the step", "characters dropped by the step"],
        title="characters through each step",
    )
    rewritten = input_chars - sum(r["dropped_chars"] for r in rows) - s["kept"]["chars"]
    table = _table(
        ["step", "in", "out", "dropped", "characters dropped", "wall s", "CPU s"],
        [
            [
                r["name"],
                r["in"],
                r["out"],
                sum(r["dropped"].values()),
                r["dropped_chars"],
                r["wall_seconds"],
                r["cpu_seconds"],
            ]
            for r in rows
        ],
    )
    effect = f"{rewritten:,} removed" if rewritten >= 0 else f"{-rewritten:,} added"
    note = (
        f'<p class="note">Characters: {input_chars:,} read, {sum(r["dropped_chars"] for r in rows):,} in dropped documents, '
        f"{s['kept']['chars']:,} kept; {effect} by steps that rewrite text (read − dropped − kept).</p>"
    )
    return "<h3>Documents</h3>" + chart + "<h3>Characters</h3>" + chars_chart + note + table


def _drops(s: dict[str, Any]) -> str:
    reasons = [(f"{step.name}: {reason}", n) for step in s["manifest"].steps for reason, n in step.dropped.items()]
    if not reasons:
        return '<p class="empty">no document was dropped</p>'
    reasons.sort(key=lambda r: -r[1])
    chart = svg.bar_chart([r for r, _ in reasons], [[n for _, n in reasons]], title="dropped documents by reason")
    table = _table(["reason", "documents", "characters"], [[r, n, s["dropped_chars"].get(r, 0)] for r, n in reasons])
    return chart + table


def _lengths(s: dict[str, Any]) -> str:
    h = s["length_histogram"]
    chart = svg.histogram(h["edges"], [h["kept"], h["rejected"]], ["kept", "rejected"], "document length", "characters")
    q = s["kept"]
    rows = [
        [unit, v.get("min"), v.get("p10"), v.get("median"), v.get("mean"), v.get("p90"), v.get("max")]
        for unit, v in (("characters", q["chars_quantiles"]), ("words", q["words_quantiles"]))
        if v
    ]
    return chart + _table(["kept documents", "min", "p10", "median", "mean", "p90", "max"], rows)


def _conversations(s: dict[str, Any]) -> str:
    c = s["conversations"]
    items = [("conversation records", c.records), *((f"{kind} records", n) for kind, n in c.kinds.items())]
    items += [("preference pairs", c.preference_pairs), ("refusal share", f"{100 * c.refusal_share:.1f}%")]
    if c.rated_completions:
        items.append(("rated completions", c.rated_completions))
    turns = _table(["turns per record", *c.turns], [["", *c.turns.values()]])
    chart = svg.bar_chart(
        list(c.turns_histogram), [list(c.turns_histogram.values())], ["records"], title="records by number of turns"
    )
    roles = _table(
        ["role", "messages", "words", "words per message"],
        [[role, r.messages, r.words, r.words_per_message] for role, r in c.roles.items()],
    )
    note = (
        "<p>Turns: the prompt and its (chosen) response. Words: whitespace-separated tokens, counted over every "
        "message (rejected answers included). Refusals: records whose responses match the shipped refusal and "
        "boilerplate phrases (<code>refusal_filter</code>'s list).</p>"
    )
    return _cards(items) + turns + chart + roles + note


def _languages(s: dict[str, Any]) -> str:
    languages = s["languages"]
    if not languages:
        return '<p class="empty">no language column in the output (add the <code>language</code> step to tag languages)</p>'
    rejected = s.get("rejected_languages", {})
    labels, _ = _top(Counter(languages) + Counter(rejected))
    kept = [languages.get(label, 0) for label in labels]
    dropped = [rejected.get(label, 0) for label in labels]
    if labels and labels[-1].startswith("other ("):
        shown = set(labels[:-1])
        kept[-1] = sum(v for k, v in languages.items() if k not in shown)
        dropped[-1] = sum(v for k, v in rejected.items() if k not in shown)
    return svg.bar_chart(labels, [kept, dropped], ["kept", "rejected"], title="documents by language (tagged)")


def _by_key(table: dict[str, SourceCounts], what: str) -> str:
    if not table:
        return '<p class="empty">nothing recorded</p>'
    ordered = sorted(table.items(), key=lambda kv: -kv[1].input_docs)
    shown = ordered[:TOP]
    labels = [k for k, _ in shown]
    series = [[v.input_docs for _, v in shown], [v.kept_docs for _, v in shown]]
    title = f"documents by {what} (top {len(shown)} of {len(ordered)})"
    chart = svg.bar_chart(labels, series, ["input", "kept"], title=title)
    rows = [[k, v.input_docs, v.kept_docs, v.input_chars, v.kept_chars] for k, v in ordered]
    return chart + _table([what, "input documents", "kept documents", "input characters", "kept characters"], rows)


def _renamed_licenses(m: Manifest) -> str:
    """What the ``license`` step made of the licences as read: input counts are by the name read,
    kept counts by the name set, so without this a renamed licence looks dropped."""
    rows = [list(r) for r in m.renamings()]
    if not rows:
        return ""
    return (
        "<h3>Licences set by the <code>license</code> step</h3>"
        "<p>Input counts above are by the licence as read, kept counts by the licence set.</p>"
        + _table(["licence as read", "licence set", "documents"], rows)
    )


def _duplicates(s: dict[str, Any]) -> str:
    m: Manifest = s["manifest"]
    dedup = m.steps_in(Section.DEDUP)
    if not dedup:
        return '<p class="empty">no deduplication step in this run</p>'
    parts = [
        _table(
            ["step", "in", "duplicates dropped", "clusters with duplicates"],
            [[d.name, d.records_in, sum(d.dropped.values()), d.counters.get("clusters", 0)] for d in dedup],
        )
    ]
    for step, sizes in s["clusters"].items():
        labels = [f"size {k}" for k in sizes]
        parts.append(f"<h3>{escape(step)}: clusters by size</h3>")
        parts.append(svg.bar_chart(labels, [list(sizes.values())], title=f"{step}: number of clusters of each size"))
    return "".join(parts)


def _pii(s: dict[str, Any]) -> str:
    m: Manifest = s["manifest"]
    steps = m.steps_in(Section.PII)
    if not steps:
        return '<p class="empty">no PII step in this run: personal data was not looked for</p>'
    counters = m.counters_of(Section.PII)
    docs = counters.pop("docs_with_pii", 0)
    mode = (steps[0].params or {}).get("mode", "?")
    labels, values = _top(counters)
    chart = (
        svg.bar_chart(labels, [values], title="PII found, by type") if counters else '<p class="empty">no PII found</p>'
    )
    return f"<p>Mode: <b>{escape(str(mode))}</b>; documents with PII: <b>{docs:,}</b>.</p>" + chart


def _mixture(s: dict[str, Any]) -> str:
    m: Manifest = s["manifest"]
    parts = []
    mix = mixture_of(m)
    if mix:
        parts.append(f"<h3>Mixture by {escape(mix.group_name)}: before and after</h3>")
        parts.append(_table(mix.header(), [mix.cells(row) for row in mix.rows]))
        parts.append(
            svg.bar_chart(
                [row.group for row in mix.rows],
                [[row.documents_before for row in mix.rows], [row.documents_after for row in mix.rows]],
                names=["documents before", "documents after"],
                title=f"mixture: documents by {mix.group_name}, before and after",
            )
        )
    if s["splits"]:
        parts.append("<h3>Splits</h3>")
        parts.append(
            _table(
                ["split", "documents", "characters"], [[k, v["documents"], v["chars"]] for k, v in s["splits"].items()]
            )
        )
    tokens = s.get("tokens")
    if tokens:
        parts.append("<h3>Tokens</h3>")
        parts.append(
            f"<p>Tokenizer <code>{escape(tokens['tokenizer']['path'])}</code> (sha256 <code>{tokens['tokenizer']['sha256'][:16]}…</code>), "
            f"{escape(tokens['dtype'])}, output <code>{escape(tokens.get('output', ''))}</code>.</p>"
        )
        parts.append(
            _table(
                ["split", "documents", "tokens", "shards"],
                [[k, v["documents"], v["tokens"], len(v["shards"])] for k, v in tokens["splits"].items()],
            )
        )
    return "".join(parts) or '<p class="empty">no mixture, split or tokenisation for this run</p>'


def _examples(s: dict[str, Any]) -> str:
    if not s["examples"]:
        return '<p class="empty">no document was dropped (or the run did not keep rejected records)</p>'
    parts = []
    for reason, rows in sorted(s["examples"].items()):
        parts.append(f"<h3>{escape(reason)}</h3>")
        for row in rows:
            label = f"{row.get('id')} · {row.get('source')} · {row['chars']:,} characters"
            parts.append(f"<details><summary>{escape(label)}</summary><pre>{escape(row['text'])}</pre></details>")
    return "".join(parts)


def _quarantine(s: dict[str, Any]) -> str:
    q = s["quarantine"]
    if not q["causes"]:
        return '<p class="empty">no input row was quarantined</p>'
    table = _table(["cause", "rows"], list(q["causes"].items()))
    samples = "".join(
        f"<details><summary>{escape(str(r.get('id')))}: {escape(str(r.get('reason')))}</summary><pre>{escape(r['text'])}</pre></details>"
        for r in q["examples"]
    )
    return table + samples


def _steps(m: Manifest) -> str:
    rows = [
        [
            step.name,
            f"<code>{escape(json.dumps(step.params or {}, sort_keys=True))}</code>",
            json.dumps(step.counters),
        ]
        for step in m.steps
    ]
    return _table(["step", "parameters", "counters"], rows, raw=(1,))


# -- helpers ----------------------------------------------------------------------------------


def _top(counts: dict[str, int]) -> tuple[list[str], list[int]]:
    ordered = sorted(counts.items(), key=lambda kv: -kv[1])
    labels, values = [k for k, _ in ordered[:TOP]], [v for _, v in ordered[:TOP]]
    if len(ordered) > TOP:
        labels.append(f"other ({len(ordered) - TOP})")
        values.append(sum(v for _, v in ordered[TOP:]))
    return labels, values


def _n(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return escape(str(value))
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}" if not value.is_integer() else f"{int(value):,}"
    return escape(str(value))


def _table(header: list[str], rows: list[list[Any]], raw: tuple[int, ...] = ()) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{_n(v)}</td>'
            if isinstance(v, (int, float)) and not isinstance(v, bool)
            else f"<td>{v if i in raw else _n(v)}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
