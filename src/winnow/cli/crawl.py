"""``winnow crawl``: fetch pages politely into WARC files that ``format: warc`` reads."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from winnow.cli.base import add_command
from winnow.configfile import problems
from winnow.errors import RecipeError

EXAMPLES = """examples:
  winnow crawl https://example.org/ -o crawl/ --contact https://example.org/about-our-crawler
  winnow crawl https://example.org/docs/ -o crawl/ --scope prefix --max-pages 500 --config crawl.yaml
  winnow crawl https://example.org/ -o crawl/ --resume          # continue a stopped crawl
then read it:  input: {path: crawl/warc, format: warc}

The config file (YAML) holds any field of the crawl (contact, min_delay, max_depth, content_types,
optout_list, max_response_bytes, ...); flags given on the command line win over it."""

# flag -> config field, for the flags that only override the config file when given
FLAGS = {
    "contact": "contact",
    "scope": "scope",
    "scope_regex": "scope_regex",
    "max_pages": "max_pages",
    "max_depth": "max_depth",
    "min_delay": "min_delay",
    "optout_list": "optout_list",
    "agent_name": "agent_name",
}


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "crawl", _cmd_crawl, "crawl web pages politely into WARC files", EXAMPLES)
    p.add_argument("seeds", nargs="+", help="start URLs (http or https)")
    p.add_argument("-o", "--output", required=True, help="crawl folder: warc/, state.sqlite, summary.json")
    p.add_argument("--config", help="YAML file with crawl settings")
    p.add_argument("--contact", help="URL or e-mail site owners can reach you at (sent in the User-Agent)")
    p.add_argument("--agent-name", help="the crawler's name in the User-Agent (default WinnowBot)")
    p.add_argument("--scope", choices=["host", "domain", "prefix", "regex"], help="which links to follow (host)")
    p.add_argument("--scope-regex", help="with --scope regex: URLs matching this are in scope")
    p.add_argument("--max-pages", type=int, help="stop after storing this many pages")
    p.add_argument("--max-depth", type=int, help="link hops from a seed (default 8)")
    p.add_argument("--min-delay", type=float, help="seconds between requests to one host (default 1.0)")
    p.add_argument("--optout-list", help="domains / URL prefixes never fetched, one per line")
    p.add_argument("--resume", action="store_true", help="continue the crawl in the output folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _cmd_crawl(args: argparse.Namespace) -> int:
    import yaml
    from pydantic import ValidationError

    try:
        from winnow.collect import CrawlConfig, crawl
    except ModuleNotFoundError as error:  # the [crawl] extra is not installed
        raise RecipeError(f"winnow crawl needs {error.name}: pip install 'winnow[crawl]'") from None

    settings: dict = {}
    if args.config:
        try:
            settings = yaml.safe_load(Path(args.config).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise RecipeError(f"cannot read crawl config {args.config}: {error}") from None
    settings.update({"seeds": args.seeds, "output": args.output})
    settings.update({field: getattr(args, flag) for flag, field in FLAGS.items() if getattr(args, flag) is not None})
    if args.no_progress:
        settings["progress"] = False
    try:
        config = CrawlConfig(**settings)
    except ValidationError as error:
        raise RecipeError(f"crawl settings: {problems(error, 'config')}") from None
    summary = crawl(config, resume=args.resume)
    for line in summary.lines():
        print(line, file=sys.stderr)
    print(Path(args.output) / "warc")
    return 0
