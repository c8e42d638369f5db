"""``winnow ablate``: the whole loop — prepare variants, train every (size, variant, seed), score,
summarise with error bars, write ``results.json`` and ``report.html``.

Layout of the output directory::

    variants/<name>/        outputs of recipe variants
    tokenizer.json          the one tokenizer (unless the config names one)
    tokens/<name>/          winnow tokenize output of each variant
    runs/<size>/<name>/seed-<s>/   checkpoint.pt while training; model.pt, train.json, scores.json when done
    results.json  report.html
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from winnow.errors import WinnowError
from winnow.evaluate.config import AblationConfig, EvalSet
from winnow.evaluate.model import pick_device
from winnow.evaluate.prepare import ablation_tokenizer, tokenize_variant, variant_data
from winnow.evaluate.results import AblationResult, RunScores, Score, SizeSummary, VariantInfo
from winnow.evaluate.scoring import Scorer
from winnow.evaluate.stats import cell, paired_difference, ranking, verdict
from winnow.evaluate.trainer import load_model, train
from winnow.export.token_dataset import TokenDataset

RESULTS, REPORT, SCORES = "results.json", "report.html", "scores.json"


def ablate(
    config: AblationConfig,
    output: str | Path,
    resume: bool = False,
    overwrite: bool = False,
    device: str | None = None,
    log=print,
) -> AblationResult:
    out = Path(output)
    _prepare_output(out, resume, overwrite)
    began = time.perf_counter()
    variants = config.all_variants()
    data = {v.name: variant_data(v, out, resume) for v in variants}
    tokenizer = ablation_tokenizer(config, data, out, resume)
    tokens = {name: tokenize_variant(name, path, tokenizer, config, out, resume) for name, path in data.items()}
    infos = [_info(name, data[name], tokens[name]) for name in data]
    scorer = Scorer(tokenizer, _eval_sets(config, tokens), config.eval_tokens)

    plan = [
        (size, variant.name, seed, out / "runs" / size.name / variant.name / f"seed-{seed}")
        for size in config.models
        for variant in variants
        for seed in config.seeds
    ]
    if config.jobs > 1 and pick_device(device).type == "cpu":
        _train_side_by_side(config, plan, tokens, config.jobs, log)
    runs: list[RunScores] = []
    for size, variant, seed, run_dir in plan:  # trains what is left (all of it with jobs: 1), then scores
        log(f"train {size.name} / {variant} / seed {seed}")
        runs.append(_train_and_score(config, size, seed, variant, tokens[variant], run_dir, scorer, device))
    summaries = [summarize(config, runs, size.name) for size in config.models]
    holds = None if len(summaries) < 2 else all(s.ranking == summaries[0].ranking for s in summaries)
    result = AblationResult(
        config=config,
        baseline=config.baseline_name(),
        variants=infos,
        runs=runs,
        sizes=summaries,
        ranking_holds=holds,
        wall_seconds=round(time.perf_counter() - began, 1),
    )
    (out / RESULTS).write_text(result.model_dump_json(indent=1))
    from winnow.evaluate.report import write_ablation_report

    write_ablation_report(result, out / REPORT)
    _link_from_variants(result, out, data)
    return result


def _prepare_output(out: Path, resume: bool, overwrite: bool) -> None:
    if out.exists() and any(out.iterdir()) and not resume:
        if not overwrite:
            raise WinnowError(
                f"{out} exists and is not empty: pass --resume to finish it or --overwrite to start again"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def _info(name: str, data: str, tokens_dir: Path) -> VariantInfo:
    train_split = TokenDataset(tokens_dir, "train")
    return VariantInfo(
        name=name,
        data=data,
        tokens_dir=str(tokens_dir),
        train_tokens=train_split.num_tokens,
        train_documents=len(train_split),
    )


def _eval_sets(config: AblationConfig, tokens: dict[str, Path]) -> list[tuple[EvalSet, Path | None]]:
    """Eval sets with their held-out token directories: ``heldout`` becomes one set per variant with a val split
    (every model is scored on every variant's held-out text, so the comparison is on the same bytes)."""
    sets: list[tuple[EvalSet, Path | None]] = []
    for spec in config.eval:
        if spec.kind != "heldout":
            sets.append((spec, None))
            continue
        for name, path in tokens.items():
            header = json.loads((path / "tokens.json").read_text())
            if "val" in header["splits"]:
                sets.append((EvalSet(name=f"{spec.name}/{name}", kind="heldout", limit=spec.limit), path))
    return sets


def _train_side_by_side(config: AblationConfig, plan, tokens: dict[str, Path], jobs: int, log) -> None:  # type: ignore[no-untyped-def]
    """Train the runs of ``plan`` ``jobs`` at a time, each in a fresh process on the CPU. A run is the
    same computation wherever it trains (its seed fixes weights and batches), and each writes only its
    own run directory, so a kill leaves checkpoints that ``--resume`` finishes, in either mode."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor, as_completed

    threads = config.threads or max(1, (os.cpu_count() or 1) // jobs)  # no oversubscribed cores
    context = multiprocessing.get_context("spawn")  # no fork of a process that already holds torch threads
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_set_threads, initargs=(threads,)) as pool:
        futures = {
            pool.submit(train, tokens[variant], config.train_spec(size, seed), run_dir, "cpu"): (size, variant, seed)
            for size, variant, seed, run_dir in plan
        }
        log(f"training {len(futures)} runs, {jobs} at a time ({threads} thread{'s' if threads > 1 else ''} each)")
        for future in as_completed(futures):
            size, variant, seed = futures[future]
            result = future.result()  # a failed run fails the ablation here, with its own error
            log(f"trained {size.name} / {variant} / seed {seed}: {result.tokens_per_second:,.0f} tokens/s")


def _set_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _train_and_score(config, size, seed, variant, tokens_dir, run_dir, scorer, device) -> RunScores:
    trained = train(tokens_dir, config.train_spec(size, seed), run_dir, device=device)
    saved = run_dir / SCORES
    if saved.is_file():
        scores = [Score.model_validate(s) for s in json.loads(saved.read_text())]
    else:
        scores = scorer.score_all(load_model(run_dir, device))
        saved.write_text(json.dumps([s.model_dump() for s in scores], indent=1))
    return RunScores(
        variant=variant,
        size=size.name,
        seed=seed,
        parameters=trained.parameters,
        tokens=trained.tokens,
        wall_seconds=trained.wall_seconds,
        tokens_per_second=trained.tokens_per_second,
        device=trained.device,
        curve=trained.curve,
        scores=scores,
    )


def summarize(config: AblationConfig, runs: list[RunScores], size: str) -> SizeSummary:
    """Mean ± std per variant and eval set, paired differences against the baseline, verdicts, ranking
    (the last two on the ``text`` eval sets only: the same bytes for every variant, kept aside from all)."""
    mine = [r for r in runs if r.size == size]
    by: dict[str, dict[str, dict[int, float]]] = {}
    metric: dict[str, str] = {}
    for r in mine:
        for s in r.scores:
            by.setdefault(r.variant, {}).setdefault(s.eval_set, {})[r.seed] = s.value
            metric[s.eval_set] = s.metric
    cells = {v: {e: cell(list(seeds.values())) for e, seeds in sets.items()} for v, sets in by.items()}
    baseline = config.baseline_name()
    # the verdict and the ranking: only the text sets kept aside from every variant, never a variant's own split
    shared = [e.name for e in config.eval if e.kind == "text" and e.name in metric]
    differences, verdicts = [], {}
    for variant in by:
        if variant == baseline:
            continue
        diffs = [
            paired_difference(variant, baseline, e, metric[e], by[variant][e], by[baseline][e])
            for e in by[variant]
            if e in by[baseline]
        ]
        differences.extend(diffs)
        verdicts[variant] = verdict(diffs, shared)
    means = {v: sum(cells[v][e].mean for e in shared) / max(1, len(shared)) for v in cells}
    return SizeSummary(
        size=size,
        cells=cells,
        differences=differences,
        verdicts=verdicts,
        verdict_sets=shared,
        ranking=ranking(means),
    )


def _link_from_variants(result: AblationResult, out: Path, data: dict[str, str]) -> None:
    """``<run>/_winnow/ablation.json`` in every variant that is a Winnow output: its data card links the result."""
    for name, path in data.items():
        meta = Path(path) / "_winnow"
        if not (meta / "manifest.json").is_file():
            continue
        link = {
            "variant": name,
            "baseline": result.baseline,
            "report": str((out / REPORT).resolve()),
            "results": str((out / RESULTS).resolve()),
            "verdicts": {s.size: s.verdicts.get(name, "the baseline") for s in result.sizes},
        }
        (meta / "ablation.json").write_text(json.dumps(link, indent=1))
