"""The last mile through the command line: train-tokenizer, tokenize, report and card on a real run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from winnow.cli import main
from winnow.export import TokenDataset


def test_cli_train_tokenize_report_card(quickstart_run: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(quickstart_run, run_dir)  # tokenize writes _winnow/tokens.json into the run
    tok, tokens = tmp_path / "tokenizer.json", tmp_path / "tokens"
    assert main(["train-tokenizer", str(run_dir), "--vocab-size", "512", "-o", str(tok)]) == 0
    args = ["tokenize", str(run_dir), "--tokenizer", str(tok), "-o", str(tokens), "--val-fraction", "0.1"]
    assert main([*args, "--seed", "3", "--workers", "2", "--shard-tokens", "100000"]) == 0
    header = json.loads((tokens / "tokens.json").read_text())
    manifest = json.loads((run_dir / "_winnow" / "manifest.json").read_text())
    assert header["documents"] == manifest["counts"]["kept"] and header["split_by"] == "id_hash"
    assert len(TokenDataset(tokens, "train")) + len(TokenDataset(tokens, "val")) == manifest["counts"]["kept"]
    assert main(["report", str(run_dir), "-o", str(tmp_path / "report.html")]) == 0
    assert f"{header['tokens']:,}" in (tmp_path / "report.html").read_text()
    assert main(["card", str(run_dir), "-o", str(tmp_path / "DATACARD.md")]) == 0
    card = (tmp_path / "DATACARD.md").read_text()
    assert f"| total | {header['documents']:,} | {header['tokens']:,} |" in card
