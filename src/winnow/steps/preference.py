"""Preference data: checks on chosen/rejected pairs (``preference_filter``) and rated completions → pairs (``rated_to_pairs``).

Rated → pairs
-------------
A ``rated`` record is one prompt (``messages``) and N scored completions (``completions``: messages,
score, annotator). ``rated_to_pairs`` turns it into ``preference`` records:

* ``aggregate`` says whose scores count.
  ``mean``: completions with the same content are one completion scored by the mean of its scores;
  ``per_annotator``: pairs are made within each annotator's own scores (an annotator with fewer than
  two completions gives none); ``majority``: for two distinct completions, the one that more of the
  annotators who scored both gave the higher score is chosen (no majority: no pair), and the margin is
  the mean of those annotators' score differences.
* ``strategy`` says which pairs: ``best_vs_worst`` (one pair: the highest against the lowest; ties of
  the best or worst broken by completion order), or ``all_pairs`` (every pair whose margin is at least
  ``min_margin``). Pairs below ``min_margin`` (default: any positive margin) are not made.

Pair ids are ``<rated id>/pair-<i>-<j>`` with i and j the positions (in ``completions``) of the chosen
and rejected completion (for majority and mean, the first position of that content), so the same
input gives the same ids on every executor. A rated record that yields no pair is dropped with reason
``no_pair``; the pairs carry ``chosen_score``, ``rejected_score``, ``margin`` and ``meta.rated_from``.
Non-rated records pass through.
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

import orjson
import pyarrow as pa
from pydantic import Field

from winnow.conversation import render_record
from winnow.records import decode_meta, encode_meta, is_conversational
from winnow.steps.base import Step, StepParams, StepResult
from winnow.steps.conversation import ConversationStep
from winnow.steps.registry import register


def content_key(messages: list[dict[str, Any]] | None) -> str:
    """What makes two continuations the same: their roles and contents."""
    return orjson.dumps([(m["role"], m["content"]) for m in messages or []]).decode()


@register
class PreferenceFilter(ConversationStep):
    """Drop preference pairs whose chosen equals rejected, that do not answer the same prompt, or that tie."""

    name = "preference_filter"

    class Params(StepParams):
        ties: Literal["drop", "keep"] = Field(
            "drop", description="pairs whose chosen_score equals rejected_score (or margin is 0): drop or keep"
        )
        min_margin: float | None = Field(None, description="drop pairs with a smaller margin (or score difference)")

    def judge(self, record: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        if record["kind"] != "preference":
            return {}, None
        chosen, rejected = record.get("chosen") or [], record.get("rejected") or []
        if not chosen or not rejected:
            return {}, "missing_response"
        if content_key(chosen) == content_key(rejected):
            return {}, "chosen_equals_rejected"
        # Both continue the same prompt: it ends with the user's (or a tool's) turn, and both answers
        # start with the assistant's — a continuation that opens with a user turn answers another prompt.
        prompt = record.get("messages") or []
        if prompt and prompt[-1]["role"] == "assistant":
            return {}, "prompt_not_answered"
        if chosen[0]["role"] != "assistant" or rejected[0]["role"] != "assistant":
            return {}, "different_prompts"
        margin = record.get("margin")
        if margin is None and record.get("chosen_score") is not None and record.get("rejected_score") is not None:
            margin = record["chosen_score"] - record["rejected_score"]
        if margin is not None:
            if margin == 0 and self.params.ties == "drop":
                return {}, "tie"
            if self.params.min_margin is not None and margin < self.params.min_margin and margin != 0:
                return {}, "margin_too_small"
        return {}, None


@register
class RatedToPairs(Step):
    """Turn rated records (one prompt, N scored completions) into preference pairs: best-vs-worst or all pairs above
    a margin, from mean, per-annotator or majority scores (see the module docs)."""

    name = "rated_to_pairs"
    requires = ("kind", "messages", "completions")

    class Params(StepParams):
        strategy: Literal["best_vs_worst", "all_pairs"] = Field("best_vs_worst", description="which pairs are made")
        aggregate: Literal["mean", "per_annotator", "majority"] = Field("mean", description="whose scores count")
        min_margin: float = Field(0.0, ge=0, description="smallest score difference of a pair (0: any difference)")

    def pairs(self, completions: list[dict[str, Any]]) -> list[tuple[int, int, float, float, float]]:
        """(chosen position, rejected position, chosen score, rejected score, margin) of each pair."""
        p = self.params
        first: dict[str, int] = {}
        for i, c in enumerate(completions):
            first.setdefault(content_key(c.get("messages")), i)
        if p.aggregate == "per_annotator":
            out = []
            by_annotator: dict[str | None, list[tuple[int, float]]] = {}
            for i, c in enumerate(completions):
                if c.get("score") is not None:
                    by_annotator.setdefault(c.get("annotator"), []).append((i, c["score"]))
            for annotator in sorted(by_annotator, key=lambda a: (a is None, a or "")):
                out.extend(self.choose(by_annotator[annotator]))
            return out
        if p.aggregate == "mean":
            scores: dict[int, list[float]] = {}
            for c in completions:
                if c.get("score") is not None:
                    scores.setdefault(first[content_key(c.get("messages"))], []).append(c["score"])
            return self.choose([(i, sum(s) / len(s)) for i, s in sorted(scores.items())])
        # majority: per annotator, the score of each distinct completion
        votes: dict[str | None, dict[int, float]] = {}
        for c in completions:
            if c.get("score") is not None:
                votes.setdefault(c.get("annotator"), {})[first[content_key(c.get("messages"))]] = c["score"]
        candidates = []
        for a, b in itertools.combinations(sorted(set(first.values())), 2):
            differences = [v[a] - v[b] for v in votes.values() if a in v and b in v]
            wins_a, wins_b = sum(d > 0 for d in differences), sum(d < 0 for d in differences)
            if wins_a == wins_b:
                continue
            margin = abs(sum(differences) / len(differences))
            chosen, rejected = (a, b) if wins_a > wins_b else (b, a)
            mean = {
                i: sum(v[i] for v in votes.values() if i in v) / sum(i in v for v in votes.values()) for i in (a, b)
            }
            candidates.append((chosen, rejected, mean[chosen], mean[rejected], margin))
        candidates = [c for c in candidates if c[4] > 0 and c[4] >= p.min_margin]
        if p.strategy == "all_pairs" or not candidates:
            return candidates
        return [max(candidates, key=lambda c: (c[4], -c[0], -c[1]))]

    def choose(self, scored: list[tuple[int, float]]) -> list[tuple[int, int, float, float, float]]:
        """Pairs from (position, score) by the strategy."""
        p = self.params
        if len(scored) < 2:
            return []
        if p.strategy == "best_vs_worst":
            best = max(scored, key=lambda s: (s[1], -s[0]))
            worst = min(scored, key=lambda s: (s[1], s[0]))
            pairs = [(best, worst)]
        else:
            pairs = [(a, b) if a[1] >= b[1] else (b, a) for a, b in itertools.combinations(scored, 2)]
        out = []
        for (i, si), (j, sj) in pairs:
            margin = si - sj
            if margin > 0 and margin >= p.min_margin:
                out.append((i, j, si, sj, margin))
        return out

    def process(self, batch: pa.Table) -> StepResult:
        if not is_conversational(batch) or batch.num_rows == 0:
            return StepResult(batch)
        rows = batch.to_pylist()
        out: list[dict[str, Any]] = []
        dropped: list[int] = []
        for index, row in enumerate(rows):
            if row.get("kind") != "rated":
                out.append(row)
                continue
            completions = row.get("completions") or []
            made = self.pairs(completions)
            if not made:
                dropped.append(index)
                continue
            self.counters["pairs"] += len(made)
            for i, j, chosen_score, rejected_score, margin in made:
                pair = {
                    **row,
                    "id": f"{row['id']}/pair-{i}-{j}",
                    "kind": "preference",
                    "chosen": completions[i]["messages"],
                    "rejected": completions[j]["messages"],
                    "chosen_score": chosen_score,
                    "rejected_score": rejected_score,
                    "margin": margin,
                    "completions": None,
                    "meta": encode_meta({**decode_meta(row.get("meta")), "rated_from": row["id"]}),
                }
                pair["text"] = render_record(pair)
                out.append(pair)
        kept = pa.Table.from_pylist(out, schema=batch.schema) if out else batch.schema.empty_table()
        if not dropped:
            return StepResult(kept)
        rejected = batch.take(pa.array(dropped))
        return StepResult(kept, self.split(rejected, ["no_pair"] * len(dropped)).rejected)
