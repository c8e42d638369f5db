"""What a streaming step returns: the records it keeps and the records it drops.

Its own module so that the step base and the conversation helpers (``steps.messages``), which the
base calls, both import it without importing each other."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass
class StepResult:
    kept: pa.Table
    rejected: pa.Table | None = None  # the dropped records, with a ``reason`` column
