"""Conversation statistics of a run's kept records, for the HTML report and the data card.

Measured in the same streaming pass as the rest of ``run_summary``, on batches that hold
post-training records (``records.is_conversational``): records per kind, turns per record,
messages and words (whitespace-separated tokens) per role, preference pairs, and the share of
records whose responses refuse or are assistant boilerplate — matched with the shipped phrase
list of ``refusal_filter`` whether or not that step ran, so a run that only tags can see it too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from winnow.records import CONVERSATION_COLUMNS, is_conversational
from winnow.steps.conversation import RefusalFilter, conversation_rows

# The columns of the kept records this module reads.
COLUMNS = tuple(CONVERSATION_COLUMNS)
TURN_BINS = (1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50)  # turns-per-record histogram: lower bounds


@dataclass
class RoleStats:
    messages: int = 0
    words: int = 0

    @property
    def words_per_message(self) -> float:
        return round(self.words / self.messages, 2) if self.messages else 0.0


@dataclass
class ConversationStats:
    """What the report and the card show about conversations (``None`` in a run without any)."""

    records: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    turns: dict[str, float] = field(default_factory=dict)  # min, median, mean, p90, max of turns per record
    turns_histogram: dict[str, int] = field(default_factory=dict)  # "3-3", "6-7", "50+" -> records
    roles: dict[str, RoleStats] = field(default_factory=dict)
    preference_pairs: int = 0
    rated_completions: int = 0
    refusals: int = 0  # records with a refusal or boilerplate response

    @property
    def refusal_share(self) -> float:
        return self.refusals / self.records if self.records else 0.0


class ConversationCounter:
    """Accumulates :class:`ConversationStats` over batches."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.turns: list[int] = []
        self.roles: dict[str, RoleStats] = {}
        self.rated_completions = 0
        self.refusals = 0
        self._refusal = RefusalFilter(mode="tag")

    def add(self, batch: pa.Table) -> None:
        if not is_conversational(batch):
            return
        for record in conversation_rows(batch):
            kind = record.get("kind")
            if kind is None:
                continue
            self.kinds[kind] += 1
            messages = list(record.get("messages") or [])
            # A record's turns as trained: the prompt and its (first) response.
            if kind == "preference":
                messages += record.get("chosen") or []
            elif kind == "unpaired":
                messages += record.get("completion") or []
            elif kind == "rated":
                completions = record.get("completions") or []
                self.rated_completions += len(completions)
                messages += (completions[0].get("messages") or []) if completions else []
            self.turns.append(len(messages))
            everything = messages + (record.get("rejected") or []) if kind == "preference" else messages
            for m in everything:
                stats = self.roles.setdefault(m["role"], RoleStats())
                stats.messages += 1
                stats.words += len(m["content"].split())
            if self._refusal.judge(record)[0]["refusal"]:
                self.refusals += 1

    def result(self) -> ConversationStats | None:
        if not self.kinds:
            return None
        turns = np.array(self.turns)
        histogram: dict[str, int] = {}
        for low, high in zip(TURN_BINS, (*TURN_BINS[1:], None), strict=True):
            n = int(((turns >= low) & (turns < high)).sum()) if high else int((turns >= low).sum())
            if n:
                histogram[f"{low}+" if high is None else (f"{low}" if high == low + 1 else f"{low}-{high - 1}")] = n
        return ConversationStats(
            records=int(turns.size),
            kinds=dict(self.kinds.most_common()),
            turns={
                "min": int(turns.min()),
                "median": float(np.median(turns)),
                "mean": round(float(turns.mean()), 2),
                "p90": float(np.percentile(turns, 90)),
                "max": int(turns.max()),
            },
            turns_histogram=histogram,
            roles=dict(sorted(self.roles.items(), key=lambda kv: -kv[1].messages)),
            preference_pairs=self.kinds.get("preference", 0),
            rated_completions=self.rated_completions,
            refusals=self.refusals,
        )
