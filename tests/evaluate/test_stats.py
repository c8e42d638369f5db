"""The verdict compares variants only on text kept aside from every variant, never on a variant's own split."""

from __future__ import annotations

from winnow.evaluate.ablate import summarize
from winnow.evaluate.config import AblationConfig
from winnow.evaluate.report import render
from winnow.evaluate.results import AblationResult, RunScores, Score, VariantInfo

# curated is better on both kept-aside sets, much worse on raw's own junk-laden split (which raw memorised)
BPB = {
    "raw": {"lambada": 3.10, "kept-aside": 3.00, "heldout/raw": 1.00, "heldout/curated": 2.90},
    "curated": {"lambada": 3.00, "kept-aside": 2.95, "heldout/raw": 4.00, "heldout/curated": 2.80},
}


def _config(eval_sets: list[dict]) -> AblationConfig:
    return AblationConfig.model_validate(
        {
            "variants": [{"name": "raw", "data": "raw.jsonl"}, {"name": "curated", "data": "cur.jsonl"}],
            "eval": eval_sets,
        }
    )


def _runs() -> list[RunScores]:
    return [
        RunScores(
            variant=variant,
            size="default",
            seed=seed,
            parameters=1,
            tokens=1,
            wall_seconds=1.0,
            tokens_per_second=1.0,
            device="cpu",
            curve=[],
            scores=[Score(eval_set=e, metric="bpb", value=v + 0.01 * seed, items=1) for e, v in sets.items()],
        )
        for variant, sets in BPB.items()
        for seed in (0, 1, 2)
    ]


FULL = [
    {"name": "lambada", "kind": "text", "path": "lambada.jsonl"},
    {"name": "kept-aside", "kind": "text", "path": "kept.jsonl"},
    {"name": "heldout", "kind": "heldout"},
]


def test_the_verdict_uses_only_the_sets_kept_aside_from_every_variant():
    config = _config(FULL)
    summary = summarize(config, _runs(), "default")
    assert summary.verdict_sets == ["lambada", "kept-aside"]
    sentence = summary.verdicts["curated"]
    # with heldout/raw mixed in the mean difference would be +0.7 bpb and the verdict "ties"
    assert sentence.startswith("curated beats raw on 2 of 2 bits-per-byte eval sets kept aside"), sentence
    assert "heldout" not in sentence
    assert "lambada -0.100 ± 0.000 (3 of 3 seeds better); kept-aside -0.050 ± 0.000 (3 of 3 seeds better)" in sentence
    assert summary.ranking == ["curated", "raw"]
    # the per-variant splits are still compared and reported, just not in the verdict
    assert {d.eval_set for d in summary.differences} == set(BPB["raw"])

    result = AblationResult(
        config=config,
        baseline="raw",
        variants=[VariantInfo(name=v, data=v, tokens_dir=v, train_tokens=1, train_documents=1) for v in BPB],
        runs=_runs(),
        sizes=[summary],
        ranking_holds=None,
        wall_seconds=1.0,
    )
    page = render(result)
    assert "use only the bits-per-byte sets kept aside from every variant: kept-aside, lambada" in page


def test_without_a_kept_aside_set_there_is_no_verdict():
    summary = summarize(_config([{"name": "heldout", "kind": "heldout"}]), _runs(), "default")
    assert summary.verdict_sets == []
    assert summary.verdicts["curated"].startswith("no bits-per-byte eval set kept aside from every variant")


def _difference(eval_set: str, per_seed: list[float]):  # type: ignore[no-untyped-def]
    from winnow.evaluate.stats import paired_difference

    zeros = dict.fromkeys(range(len(per_seed)), 0.0)
    return paired_difference("curated", "raw", eval_set, "bpb", dict(enumerate(per_seed)), zeros)


def test_one_large_loss_does_not_read_as_a_win_or_a_loss_overall():
    from winnow.evaluate.stats import verdict

    # the shape of the real-corpus result: better on two clean sets, far worse on raw web text
    diffs = [
        _difference("lambada", [-0.10, -0.12, -0.14]),
        _difference("aside-curated", [-0.18, -0.20, -0.22]),
        _difference("aside-raw", [1.0, 1.2, 1.4]),
    ]
    sentence = verdict(diffs, ["lambada", "aside-curated", "aside-raw"])
    assert sentence.startswith("curated vs raw is mixed: better on 2, worse on 1, of 3 bits-per-byte"), sentence
    assert "aside-raw +1.200 ± " in sentence and "(0 of 3 seeds better)" in sentence
    # differences whose interval spans zero count for neither side
    noisy = [_difference("lambada", [-0.1, 0.05, -0.02]), _difference("aside-raw", [0.1, -0.05, 0.02])]
    assert verdict(noisy, ["lambada", "aside-raw"]).startswith("curated and raw are not told apart")
    assert verdict(diffs[2:], ["aside-raw"]).startswith("curated loses to raw on 1 of 1")
    # the default-budget real-corpus shape: better on every seed on two sets, but with wide intervals
    wide = [
        _difference("lambada", [-0.05, -0.10, -0.28]),
        _difference("aside-raw", [1.7, 1.9, 2.2]),
        _difference("aside-curated", [-0.05, -0.15, -0.36]),
    ]
    sentence = verdict(wide, ["lambada", "aside-raw", "aside-curated"])
    assert sentence.startswith(
        "curated loses to raw on 1 of 3 bits-per-byte eval sets kept aside from every variant, "
        "and better on 2 whose 95% interval includes zero ("
    ), sentence
