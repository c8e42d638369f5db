"""The data card, checked number for number against the manifest, tokens.json and the outputs."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from report_helpers import ROOT, example_recipe

from winnow import run
from winnow.report.card import PUE, TO_FILL, WATTS_PER_CORE, write_card
from winnow.steps.registry import all_steps


def number(cell: str) -> float | int:
    cell = cell.replace(",", "")
    return float(cell) if "." in cell else int(cell)


def section(card: str, title: str) -> str:
    match = re.search(rf"^##+ {re.escape(title)}\n(.*?)(?=^## |\Z)", card, re.S | re.M)
    assert match, f"no section {title!r}"
    return match.group(1)


def tables(text: str) -> list[list[dict[str, str]]]:
    """Every Markdown table of a section as a list of rows keyed by header."""
    found, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("| ") and i + 1 < len(lines) and lines[i + 1].startswith("|---"):
            header = [h.strip() for h in lines[i].strip("|").split(" | ")]
            rows, i = [], i + 2
            while i < len(lines) and lines[i].startswith("| "):
                cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", lines[i].strip()[1:-1])]
                rows.append(dict(zip(header, cells, strict=True)))
                i += 1
            found.append(rows)
        else:
            i += 1
    return found


def check_card_against_manifest(out: Path, card: str) -> None:
    m = json.loads((out / "_winnow" / "manifest.json").read_text())
    summary = {row["what"]: number(row["value"]) for row in tables(section(card, "Summary"))[0]}
    assert summary["input documents"] == m["counts"]["input"]
    assert summary["kept documents"] == m["counts"]["kept"]
    assert summary["rejected documents"] == m["counts"]["rejected"]
    assert summary["quarantined input rows"] == m["counts"]["quarantined"]
    assert summary["kept characters"] == sum(v["kept_chars"] for v in m["by_source"].values())
    assert summary["sources"] == len(m["by_source"]) and summary["licences"] == len(m["by_license"])

    inputs, by_source, by_license = tables(section(card, "Sources and licences"))
    assert [r["input"] for r in inputs] == [i["path"] for i in m["inputs"]]
    assert [number(r["bytes"]) for r in inputs] == [sum(f["bytes"] for f in i["files"]) for i in m["inputs"]]
    for rows, key, expected in ((by_source, "source", m["by_source"]), (by_license, "licence", m["by_license"])):
        assert {r[key] for r in rows} == set(expected)
        for r in rows:
            e = expected[r[key]]
            got = [number(r[c]) for c in ("input documents", "input characters", "kept documents", "kept characters")]
            assert got == [e["input_docs"], e["input_chars"], e["kept_docs"], e["kept_chars"]], r

    steps_text = section(card, "Processing steps")
    rows = tables(steps_text)[0]
    assert [r["step"] for r in rows] == [s["name"] for s in m["steps"]]
    for r, s in zip(rows, m["steps"], strict=True):
        assert [number(r["in"]), number(r["out"]), number(r["dropped"])] == [
            s["in"],
            s["out"],
            sum(s["dropped"].values()),
        ]
        assert number(r["wall seconds"]) == s["wall_seconds"] and number(r["CPU seconds"]) == s["cpu_seconds"]
        assert f"**{s['name']}** `{json.dumps(s['params'], sort_keys=True)}`" in steps_text
        for reason, count in s["dropped"].items():
            assert f"{reason} {count:,}" in steps_text

    compute = section(card, "Compute")
    assert number(tables(compute)[0][0]["CPU seconds"]) == m["cpu_seconds"]
    cpu_hours = sum(number(r["CPU seconds"]) for r in tables(compute)[0]) / 3600
    assert f"{cpu_hours:.6f} CPU-hours" in compute
    assert f"{cpu_hours * WATTS_PER_CORE * PUE:.4f} Wh" in compute and f"PUE of {PUE:g}" in compute

    for title in ("Motivation", "Intended use", "Known limitations"):
        assert TO_FILL in section(card, title)


def test_quickstart_card_matches_manifest(quickstart_run: Path, tmp_path: Path) -> None:
    write_card(str(quickstart_run), str(tmp_path / "DATACARD.md"))
    card = (tmp_path / "DATACARD.md").read_text()
    check_card_against_manifest(quickstart_run, card)
    assert "No deduplication step was run" in card and "No PII step was run" in card


def test_rich_card_matches_manifest_outputs_and_tokens(rich_run: Path, tmp_path: Path) -> None:
    write_card(str(rich_run), str(tmp_path / "DATACARD.md"))
    card = (tmp_path / "DATACARD.md").read_text()
    check_card_against_manifest(rich_run, card)
    m = json.loads((rich_run / "_winnow" / "manifest.json").read_text())
    steps = {s["name"]: s for s in m["steps"]}

    dedup = {r["step"]: r for r in tables(section(card, "Deduplication"))[0]}
    for name in ("exact_dedup", "minhash_dedup"):
        assert number(dedup[name]["duplicates dropped"]) == steps[name]["dropped"]["duplicate"]
        assert number(dedup[name]["clusters with duplicates"]) == steps[name]["counters"]["clusters"]

    pii = section(card, "Personal data (PII)")
    counters = dict(steps["pii"]["counters"])
    assert f"{counters.pop('docs_with_pii'):,} documents had personal data" in pii
    assert {r["type"]: number(r["found"]) for r in tables(pii)[0]} == counters

    # splits and languages: counted from the output files themselves
    on_disk = Counter()
    languages = Counter()
    for split in ("train", "val", "test"):
        for part in (rich_run / "data" / split).glob("part-*.parquet"):
            on_disk[split] += pq.read_metadata(part).num_rows
            languages.update(pq.read_table(part, columns=["language.lang"]).column(0).to_pylist())
    splits = {r["split"]: number(r["documents"]) for r in tables(section(card, "Mixture and splits"))[0]}
    assert splits == dict(on_disk)
    langs = {r["language"]: number(r["kept documents"]) for r in tables(section(card, "Language and length"))[0]}
    assert langs == dict(languages)

    # token counts: the shards' header, the copy in the run's _winnow/ and the card agree
    recorded = json.loads((rich_run / "_winnow" / "tokens.json").read_text())
    header = json.loads((Path(recorded["output"]) / "tokens.json").read_text())
    token_rows = {r["split"]: r for r in tables(section(card, "Tokens"))[0]}
    assert number(token_rows["total"]["tokens"]) == header["tokens"] == recorded["tokens"]
    for split, info in header["splits"].items():
        assert (
            number(token_rows[split]["tokens"]) == info["tokens"]
            and number(token_rows[split]["documents"]) == info["documents"]
        )
        assert info["documents"] == on_disk[split]
    summary = {row["what"]: row["value"] for row in tables(section(card, "Summary"))[0]}
    assert number(summary["tokens (with one end-of-document token per document)"]) == header["tokens"]
    assert f"Text tokens (without end-of-document): {header['text_tokens']:,}" in card


def test_fineweb_style_card_matches_manifest(tmp_path: Path) -> None:
    recipe = example_recipe("fineweb-style.yaml", tmp_path / "out")
    missing = [name for step in recipe["steps"] for name in step if name not in all_steps()]
    if missing:
        pytest.skip(f"examples/fineweb-style.yaml needs steps not registered yet: {missing}")
    run(recipe, workers=2)
    write_card(str(tmp_path / "out"), str(tmp_path / "DATACARD.md"))
    check_card_against_manifest(tmp_path / "out", (tmp_path / "DATACARD.md").read_text())
    assert (ROOT / "examples" / "fineweb-style.yaml").is_file()
