"""The journal: every completed call, written before its row counts as done, so a resumed run sends none
of them again.

A journal is a folder of JSON-lines files, one per writer process (``<pid>-<random>.jsonl``), each line
one :class:`~winnow.synth.request.Completion` keyed by its request key. A line is written whole with one
``write`` on an unbuffered file, so it reaches the operating system before the call is reported done;
a process killed mid-line leaves a torn last line, which loading skips (that call is sent again — it had
not completed). Reading a journal reads every process's file: workers share the work already done.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import orjson

from winnow.synth.request import Completion


class Journal:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._entries: dict[str, dict] = {}
        self._read_to: dict[Path, int] = {}  # bytes of each file already loaded
        self._file = None
        self.refresh()

    def refresh(self) -> None:
        """Load what any process appended since the last look."""
        for path in sorted(self.folder.glob("*.jsonl")):
            start = self._read_to.get(path, 0)
            with open(path, "rb") as f:
                f.seek(start)
                data = f.read()
            end = data.rfind(b"\n") + 1  # a torn last line (a killed writer) is not an entry
            for line in data[:end].splitlines():
                if line.strip():
                    entry = orjson.loads(line)
                    self._entries[entry["key"]] = entry
            self._read_to[path] = start + end

    def get(self, key: str) -> Completion | None:
        entry = self._entries.get(key)
        return Completion.from_json(entry) if entry is not None else None

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def record(self, completion: Completion) -> None:
        if self._file is None:
            name = f"{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
            self._file = open(self.folder / name, "ab", buffering=0)  # noqa: SIM115 (closed in close())
        entry = completion.to_json()
        self._file.write(orjson.dumps(entry) + b"\n")
        self._entries[completion.key] = entry

    def spent(self) -> tuple[int, int]:
        """Input and output tokens of every journalled call."""
        return (
            sum(e["input_tokens"] for e in self._entries.values()),
            sum(e["output_tokens"] for e in self._entries.values()),
        )

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
