"""Git repositories (``format: git``): a working tree or a bare repository, read at a commit (``input.ref``,
default HEAD) through the ``git`` command — one record per file of the commit's tree.

``text`` is the file (UTF-8; a file that does not decode is binary), ``url`` ``git+file://<repo>@<commit>#<path>``,
``collected_at`` the commit date, ``license`` the file's own ``SPDX-License-Identifier`` header, else the
repository's licence (its root LICENSE/LICENCE/COPYING/UNLICENSE files, through the ``license`` step's
detection, several joined with AND), else the input's ``license``. ``meta`` holds ``path``, ``language``
(``winnow.io.code_languages``), ``repo``, ``commit``, ``commit_date``, ``repo_license``, ``spdx_header``,
``size`` and, for a file that is not source to train on, ``code_skip``: binary, too_large, vendored,
lock_file, minified, generated, symlink, submodule. Such files still become records (with empty text when
binary or too large) so that nothing vanishes: the ``code_filter`` step drops them with that reason.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from winnow.errors import RecipeError
from winnow.io.base import DEFAULT_BATCH_SIZE, ErrorSink, InputRow, InputSpec, Reader, Shard, register_reader
from winnow.io.code_languages import language_of, not_source
from winnow.licenses import SPDX_HEADER, detect_in_text, normalize_license

MAX_FILE_BYTES = 1_000_000  # The Stack drops files over 1 MB
LICENSE_FILE = re.compile(r"(?i)^(?:un)?licen[cs]e(?:[-._].*)?$|^copying(?:[-._].*)?$")


@register_reader
class GitReader(Reader):
    format = "git"
    extensions = ()  # a folder, never told by a name: declare format: git

    @classmethod
    def expand(cls, path: str) -> list[tuple[str, str]] | None:
        root = Path(path)
        if not root.is_dir():
            raise RecipeError(f"format git: {path} is not a directory (a working tree or a bare repository)")
        return [(str(root.resolve()), root.resolve().name)]

    def read(
        self, shard: Shard, spec: InputSpec, errors: ErrorSink, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> Iterator[pa.Table]:
        repo = shard.file
        commit, date = _commit(repo, spec.ref or "HEAD")
        entries = _tree(repo, commit)
        blobs = _Blobs(repo)
        try:
            rows = _tree_rows(blobs, entries, shard, spec, commit, date)
            yield from self.batches(rows, spec, shard, errors, batch_size)
        finally:
            blobs.close()


def _tree_rows(
    blobs: _Blobs, entries: list[tuple[str, str, str, str]], shard: Shard, spec: InputSpec, commit: str, date: str
) -> Iterator[InputRow]:
    """The input row of every entry of the commit's tree, with what the repository and the commit say of it."""
    repo = shard.file
    repo_license = _repo_license(blobs, entries)
    for position, (mode, kind, oid, path) in enumerate(entries):
        row = _file_row(blobs, mode, kind, oid, path, spec)
        meta = row["_meta"]
        meta.update(repo=repo, commit=commit, commit_date=date, repo_license=repo_license)
        row["_license"] = meta["spdx_header"] or repo_license
        row.update(url=f"git+file://{repo}@{commit}#{path}", _collected_at=date)
        row[spec.id_field] = f"{shard.relative}@{commit[:12]}:{path}"
        yield InputRow(row, position, f"file {path}")


def _git(repo: str, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", repo, *args], capture_output=True, check=True)
    except FileNotFoundError:
        raise RecipeError("format git needs the git command (apt-get install git)") from None
    except subprocess.CalledProcessError as error:
        cause = error.stderr.decode("utf-8", "replace").strip() or f"git {' '.join(args)} failed"
        raise RecipeError(f"format git: {repo}: {cause}") from None
    return done.stdout


def _commit(repo: str, ref: str) -> tuple[str, str]:
    commit = _git(repo, "rev-parse", "--verify", f"{ref}^{{commit}}").decode().strip()
    date = _git(repo, "show", "-s", "--format=%cI", commit).decode().strip()
    return commit, date


def _tree(repo: str, commit: str) -> list[tuple[str, str, str, str]]:
    """(mode, type, object id, path) of every entry of the commit's tree, recursively."""
    out = _git(repo, "ls-tree", "-r", "-z", "--full-tree", commit)
    entries = []
    for item in out.split(b"\0"):
        if item:
            info, path = item.split(b"\t", 1)
            mode, kind, oid = info.decode().split()
            entries.append((mode, kind, oid, path.decode("utf-8", "surrogateescape")))
    return entries


class _Blobs:
    """Blob contents through one ``git cat-file --batch`` process (one process for the whole tree)."""

    def __init__(self, repo: str):
        self.process = subprocess.Popen(
            ["git", "-C", repo, "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def read(self, oid: str) -> bytes:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(oid.encode() + b"\n")
        self.process.stdin.flush()
        header = self.process.stdout.readline().split()
        if len(header) < 3:
            raise RecipeError(f"format git: object {oid} is missing ({b' '.join(header).decode()})")
        data = self.process.stdout.read(int(header[2]))
        self.process.stdout.read(1)  # the newline after each object
        return data

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait()


def _repo_license(blobs: _Blobs, entries: list[tuple[str, str, str, str]]) -> str | None:
    found = []
    for _mode, kind, oid, path in entries:
        if kind == "blob" and "/" not in path and LICENSE_FILE.match(path):
            detected = detect_in_text(blobs.read(oid).decode("utf-8", "replace"))
            if detected and detected[0] not in found:
                found.append(detected[0])
    return " AND ".join(sorted(found)) if found else None


def _file_row(blobs: _Blobs, mode: str, kind: str, oid: str, path: str, spec: InputSpec) -> dict:
    meta: dict = {"path": path, "language": None, "spdx_header": None, "size": None, "code_skip": None}
    text = ""
    if kind == "commit":
        meta["code_skip"] = "submodule"
    elif mode == "120000":
        meta["code_skip"] = "symlink"
    else:
        data = blobs.read(oid)
        meta["size"] = len(data)
        meta["language"] = language_of(path, data[:256])
        skip = "too_large" if len(data) > MAX_FILE_BYTES else None
        if skip is None and b"\0" in data[:8192]:
            skip = "binary"
        if skip is None:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                skip = "binary"
        meta["code_skip"] = skip or not_source(path, data[:4096])
        header = SPDX_HEADER.search(text[:4096]) if text else None
        if header:
            meta["spdx_header"] = normalize_license(header.group(1).strip()) or header.group(1).strip()
    return {spec.text_field: text, "_meta": meta}
