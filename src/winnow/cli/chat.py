"""Post-training data out: ``winnow export`` (trainer formats, packed token sequences) and
``winnow preflight`` (a chat template's view of the data)."""

from __future__ import annotations

import argparse

from winnow.cli.base import add_command

EXPORT_EXAMPLES = """examples:
  winnow export out/chat --format trl-sft -o sft.jsonl
  winnow export out/chat --format trl-sft --style prompt-completion -o sft.jsonl
  winnow export out/prefs --format trl-dpo --style implicit -o dpo.jsonl.zst
  winnow export out/prefs --format openai-dpo -o dpo.jsonl
  winnow export out/logs --format trl-kto --no-unpair -o kto.jsonl
  winnow export out/chat --format sharegpt -o sharegpt.json     # .json: one JSON array
  winnow export out/chat --format sft-packed --tokenizer models/my-model --max-seq-len 4096 -o out/sft-tokens

formats: trl-sft, trl-dpo, trl-kto, trl-reward, openai-sft, openai-dpo, sharegpt, alpaca, hh-rlhf,
and sft-packed (token sequences with an assistant-only loss mask, the layout of winnow tokenize)
Every row is checked against its format's rules; the first record that breaks them stops the
export with its id. Records of kinds the format does not hold are skipped and counted."""


PREFLIGHT_EXAMPLES = """examples:
  winnow preflight out/chat --tokenizer models/my-model --max-seq-len 4096
  winnow preflight out/prefs --tokenizer models/my-model --max-seq-len 2048 --json

The model directory is read from disk (tokenizer.json + tokenizer_config.json with its
chat_template); nothing is downloaded."""
PACKED = "sft-packed"


def add_commands(sub: argparse._SubParsersAction) -> None:
    from winnow.export.chat import FORMATS

    help = "write conversations and preferences in a trainer's format (TRL, OpenAI, ShareGPT, …)"
    p = add_command(sub, "export", _cmd_export, help, EXPORT_EXAMPLES)
    p.add_argument("data", nargs="+", help="a run's output directory, or Parquet/JSONL part files")
    p.add_argument("--format", required=True, choices=(*FORMATS, PACKED), metavar="FORMAT", help="see the list below")
    p.add_argument("-o", "--output", required=True, help="the file to write (.jsonl, .jsonl.gz, .jsonl.zst, .json)")
    p.add_argument("--style", help="trl-sft: messages | prompt-completion; trl-dpo: explicit | implicit")
    p.add_argument("--no-unpair", action="store_true", help="trl-kto: leave preference pairs out")
    p.add_argument("--tokenizer", help="sft-packed: a model directory (chat template) or a tokenizer.json (ChatML)")
    p.add_argument("--max-seq-len", type=int, default=2048, help="sft-packed: tokens per packed sequence")
    p.add_argument("--overlong", choices=["drop", "truncate"], default="drop", help="sft-packed: longer conversations")
    p.add_argument("--seed", type=int, default=0, help="sft-packed: the shuffle before packing")

    help = "render examples through a model's chat template: token lengths, examples over max_seq_len, cut answers"
    p = add_command(sub, "preflight", _cmd_preflight, help, PREFLIGHT_EXAMPLES)
    p.add_argument("data", nargs="+", help="a run's output directory, or Parquet/JSONL part files")
    p.add_argument("--tokenizer", required=True, help="a model directory on disk, or a tokenizer.json (ChatML)")
    p.add_argument("--max-seq-len", type=int, required=True)
    p.add_argument("--json", action="store_true", help="the whole report as JSON (every id)")


def _cmd_preflight(args: argparse.Namespace) -> int:
    import dataclasses
    import json

    from winnow.export.chat.packing import preflight

    report = preflight(args.data, args.tokenizer, args.max_seq_len)
    print(json.dumps(dataclasses.asdict(report), indent=1) if args.json else report.summary())
    return 0


def _cmd_packed(args: argparse.Namespace) -> int:
    from winnow.errors import WinnowError
    from winnow.export.chat.packing import pack_sft

    if not args.tokenizer:
        raise WinnowError("sft-packed needs --tokenizer (a model directory or a tokenizer.json)")
    header = pack_sft(args.data, args.tokenizer, args.output, args.max_seq_len, args.seed, args.overlong)
    p = header["packing"]
    print(
        f"{p['conversations']:,} conversations -> {p['sequences']:,} sequences of <= {p['max_seq_len']:,} tokens, "
        f"{header['tokens']:,} tokens ({header['loss_mask']['trained_tokens']:,} trained on) -> {args.output}\n"
        f"  dropped as too long: {p['dropped_overlong']:,}, truncated: {p['truncated']:,}, "
        f"nothing to train on: {p['skipped_no_assistant']:,}"
    )
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from winnow.export.chat import export_conversations

    if args.format == PACKED:
        return _cmd_packed(args)
    options: dict[str, object] = {}
    if args.style is not None:
        options["style"] = args.style
    if args.no_unpair:
        options["unpair"] = False
    summary = export_conversations(args.data, args.format, args.output, **options)
    skipped = ", ".join(f"{n:,} {kind}" for kind, n in sorted(summary.skipped.items()))
    print(
        f"{summary.records:,} records -> {summary.rows:,} {args.format} rows in {summary.seconds:.1f} s: {args.output}"
        + (f"\n  skipped (kind not held by {args.format}): {skipped}" if skipped else "")
    )
    return 0
