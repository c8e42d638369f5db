"""Winnow's feedback app and Label Studio side by side, both on SQLite, on the same records: N real
HH-RLHF preference pairs (the harmless-base test set, repeated under new ids to reach N).

* import: Winnow through its Python API (as feedback_bench.py does); Label Studio through its import
  API (one POST of the tasks as JSON, as a script or the upload dialog sends a file), each record
  carrying one answer so that both exports have every record to write;
* list: every record id through the REST API, a page at a time as a client would (Winnow's keyset
  ``GET /api/projects/{p}/records``; Label Studio's ``GET /api/tasks?project=&page=&page_size=``);
* export: Label Studio's ``GET /api/projects/{id}/export?exportType=JSON`` (what its API documents for
  a download) and, with ``--snapshot``, its export snapshots (create, then download); Winnow's
  streamed REST export to trl-dpo and to the winnow format (downloaded as a user would) and the file
  export (``Feedback.export``).

Label Studio runs from its own virtual environment (``bash benchmarks/setup_labelstudio.sh``) on
loopback, with a fresh data directory (SQLite) per size. Every step has a time limit (``--timeout``);
a step that fails or runs out of time is reported as such, not dropped.

    .venv/bin/python benchmarks/feedback_vs_labelstudio.py [--records 1000,10000] [--page-size 100]
        [--timeout 600] [--snapshot] [--only winnow,labelstudio] [--ls-steps import,list,export]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
from sqlalchemy import update

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "tests" / "feedback"), str(ROOT / "tests")]
os.environ.setdefault("WINNOW_FEEDBACK_ARGON2", "fast")

from common import SHARED_DATA  # noqa: E402
from feedback_bench import fill_answers  # noqa: E402
from webserver import free_port, process_server  # noqa: E402

from winnow.feedback.service import Feedback  # noqa: E402
from winnow.feedback.store import Assignment  # noqa: E402

HH = SHARED_DATA / "sft" / "hh-rlhf" / "harmless-base-test.jsonl.gz"
LS_BIN = ROOT / "benchmarks" / ".venv-labelstudio" / "bin"
LS_USER, LS_PASSWORD, LS_TOKEN = "bench@example.com", "bench-password-long", "0123456789abcdef0123456789abcdef01234567"
# Label Studio's "Pairwise Classification" template, with the prompt shown above the two answers
LS_CONFIG = """<View>
  <Header value="Prompt"/>
  <Text name="prompt" value="$prompt"/>
  <Header value="Which answer is better?"/>
  <Pairwise name="comparison" toName="answer1,answer2"/>
  <Text name="answer1" value="$answer1"/>
  <Text name="answer2" value="$answer2"/>
</View>"""


def hh_rows() -> list[dict]:
    return [orjson.loads(line) for line in gzip.decompress(HH.read_bytes()).splitlines()]


def last_turn(transcript: str) -> tuple[str, str]:
    """``(everything before the last assistant turn, that turn)`` of an HH-RLHF transcript."""
    head, _, answer = transcript.rpartition("\n\nAssistant:")
    return head, answer.strip()


def winnow_input(n: int, rows: list[dict], work: Path) -> Path:
    path = work / f"hh-{n}.jsonl"
    with open(path, "wb") as f:
        for i in range(n):
            f.write(orjson.dumps({"id": f"hh-{i}", **rows[i % len(rows)]}) + b"\n")
    return path


def ls_tasks(n: int, rows: list[dict]) -> bytes:
    """The same records as Label Studio tasks, each with one answer (the chosen side preferred)."""
    tasks = []
    for i in range(n):
        row = rows[i % len(rows)]
        prompt, chosen = last_turn(row["chosen"])
        _, rejected = last_turn(row["rejected"])
        result = {"from_name": "comparison", "to_name": "answer1", "type": "pairwise", "value": {"selected": "left"}}
        tasks.append({
            "data": {"ref": f"hh-{i}", "prompt": prompt.strip(), "answer1": chosen, "answer2": rejected},
            "annotations": [{"result": [result]}],
        })  # fmt: skip
    return orjson.dumps(tasks)


class Step:
    """Wall time of one step, or why it has none."""

    def __init__(self, results: dict, key: tuple[str, int, str]):
        self.results, self.key = results, key

    def __enter__(self) -> Step:
        self.start = time.perf_counter()
        self.note = ""
        return self

    def __exit__(self, kind, error, tb) -> bool:  # type: ignore[no-untyped-def]
        seconds = time.perf_counter() - self.start
        if error is None:
            self.results[self.key] = (seconds, self.note)
            print(f"  {self.key[0]} {self.key[1]:,} {self.key[2]}: {seconds:.2f} s {self.note}", flush=True)
            return False
        why = "timed out" if isinstance(error, httpx.TimeoutException) else f"failed ({type(error).__name__}: {error})"
        self.results[self.key] = (None, f"{why} after {seconds:.0f} s")
        print(f"  {self.key[0]} {self.key[1]:,} {self.key[2]}: {why} after {seconds:.1f} s", flush=True)
        return True  # the next step still runs


@contextlib.contextmanager
def label_studio(data_dir: Path, timeout: float):  # type: ignore[no-untyped-def]
    port = free_port()
    env = {
        **os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir), "DJANGO_DB": "sqlite",
        "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true", "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": "",
        "COLLECT_ANALYTICS": "false", "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "PATH": f"{LS_BIN}:{os.environ['PATH']}",
    }  # fmt: skip
    cmd = [str(LS_BIN / "label-studio"), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port)]
    cmd += ["--username", LS_USER, "--password", LS_PASSWORD, "--user-token", LS_TOKEN, "--enable-legacy-api-token"]
    log = open(data_dir / "server.log", "wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"label-studio exited ({proc.returncode}); see {data_dir / 'server.log'}")
            try:
                if httpx.get(url + "/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"label-studio did not start in {timeout:.0f} s; see {data_dir / 'server.log'}")
            time.sleep(0.5)
        client = httpx.Client(base_url=url, headers={"Authorization": f"Token {LS_TOKEN}"}, timeout=timeout)
        yield client
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()


def download(client: httpx.Client, url: str, path: Path, **kw) -> int:  # type: ignore[no-untyped-def]
    """Stream a GET to ``path`` as a browser's download would; the bytes written."""
    size = 0
    with client.stream("GET", url, **kw) as r, open(path, "wb") as f:
        r.raise_for_status()
        for chunk in r.iter_bytes(1 << 20):
            f.write(chunk)
            size += len(chunk)
    return size


def run_label_studio(ls: httpx.Client, n: int, rows: list[dict], args: argparse.Namespace, work: Path,
                     results: dict) -> None:  # fmt: skip
    data_dir = work / f"ls-{n}"
    data_dir.mkdir()
    body = ls_tasks(n, rows)
    project = ls.post("/api/projects", json={"title": f"hh-{n}", "label_config": LS_CONFIG})
    project.raise_for_status()
    pid = project.json()["id"]
    with Step(results, ("Label Studio", n, "import")) as step:
        r = ls.post(f"/api/projects/{pid}/import", content=body, headers={"Content-Type": "application/json"})
        r.raise_for_status()
        reply = r.json()
        if "import" in reply and reply.get("task_count") is None:  # an asynchronous import: wait for it
            while True:
                state = ls.get(f"/api/projects/{pid}/imports/{reply['import']}").json()
                if state.get("status") in ("completed", "failed"):
                    break
                time.sleep(0.2)
            if state["status"] == "failed":
                raise RuntimeError(state.get("error"))
        count = ls.get(f"/api/projects/{pid}").json().get("task_number")
        step.note = f"({count:,} tasks in the project, {len(body) / 1e6:.0f} MB posted)"
    if "list" in args.ls_steps:
        with Step(results, ("Label Studio", n, "list ids")) as step:
            ids: list[int] = []
            page = 1
            while True:
                r = ls.get("/api/tasks", params={"project": pid, "page": page, "page_size": args.page_size})
                if r.status_code == 404:  # past the last page
                    break
                r.raise_for_status()
                tasks = r.json()["tasks"]
                ids += [t["id"] for t in tasks]
                if len(tasks) < args.page_size:
                    break
                page += 1
            if len(set(ids)) != n:
                raise RuntimeError(f"{len(set(ids)):,} distinct ids listed, {n:,} imported")
            step.note = f"({page} pages of {args.page_size})"
    if "export" not in args.ls_steps:
        return
    with Step(results, ("Label Studio", n, "export JSON (GET …/export)")) as step:
        size = download(ls, f"/api/projects/{pid}/export", data_dir / "export.json", params={"exportType": "JSON"})
        exported = len(orjson.loads((data_dir / "export.json").read_bytes()))
        step.note = f"({exported:,} tasks, {size / 1e6:.0f} MB)"
    if args.snapshot:
        with Step(results, ("Label Studio", n, "export JSON (snapshot)")) as step:
            snap = ls.post(f"/api/projects/{pid}/exports", json={"title": "bench"})
            snap.raise_for_status()
            eid = snap.json()["id"]
            while (status := ls.get(f"/api/projects/{pid}/exports/{eid}").json()["status"]) not in (
                "completed", "failed",
            ):  # fmt: skip
                time.sleep(0.2)
            if status == "failed":
                raise RuntimeError("snapshot export failed")
            size = download(ls, f"/api/projects/{pid}/exports/{eid}/download", data_dir / "snapshot.json",
                            params={"exportType": "JSON"})  # fmt: skip
            step.note = f"({size / 1e6:.0f} MB)"
    shutil.rmtree(data_dir, ignore_errors=True)


def run_winnow(n: int, rows: list[dict], args: argparse.Namespace, work: Path, results: dict) -> None:
    folder = work / f"winnow-{n}"
    folder.mkdir()
    db_url = f"sqlite:///{folder / 'feedback.db'}"
    data = winnow_input(n, rows, folder)
    fb = Feedback.open(db_url, create=True)
    fb.projects.create("bulk", "pairwise", overlap=1)
    with Step(results, ("Winnow", n, "import")) as step:
        summary = fb.import_records("bulk", data)
        step.note = f"({summary.added:,} records)"
    fb.users.add("a0", "annotator")
    fill_answers(fb, "bulk", ["a0"])  # one answer per record, as the Label Studio tasks carry ...
    with fb.db.write() as s:  # ... and always the first side, so that no tie drops a row from the export
        s.execute(update(Assignment).values(value={"choice": "A"}).execution_options(synchronize_session=False))
    fb.users.add("rita", "reviewer", password="pw-rita-long-enough")
    fb.projects.add_member("bulk", "rita", "reviewer")
    token = fb.users.create_token("rita")
    for fmt in ("trl-dpo", "winnow"):
        with Step(results, ("Winnow", n, f"export {fmt} (file)")) as step:
            out = fb.export("bulk", fmt, folder / f"file-{fmt}.jsonl")
            step.note = f"({out.rows:,} rows)"
    fb.close()
    with process_server(db_url) as (url, _proc):
        api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=args.timeout)
        with Step(results, ("Winnow", n, "list ids")) as step:
            ids, after, pages = [], 0, 0
            while after is not None:
                r = api.get("/api/projects/bulk/records", params={"after": after, "limit": args.page_size})
                r.raise_for_status()
                page = r.json()
                ids += [rec["record"] for rec in page["records"]]
                after, pages = page["next"], pages + 1
            if len(set(ids)) != n:
                raise RuntimeError(f"{len(set(ids)):,} distinct ids listed, {n:,} imported")
            step.note = f"({pages} pages of {args.page_size})"
        for fmt in ("trl-dpo", "winnow"):
            with Step(results, ("Winnow", n, f"export {fmt} (REST, streamed)")) as step:
                size = download(api, "/api/projects/bulk/export", folder / f"rest-{fmt}.jsonl", params={"format": fmt})
                lines = (folder / f"rest-{fmt}.jsonl").read_bytes().count(b"\n")
                step.note = f"({lines:,} rows, {size / 1e6:.0f} MB)"
    shutil.rmtree(folder, ignore_errors=True)


def table(results: dict, sizes: list[int]) -> str:
    def cell(key: tuple[str, int, str]) -> str:
        if key not in results:
            return "—"
        seconds, note = results[key]
        return f"{seconds:.2f} s" if seconds is not None else note

    get, snap = "export JSON (GET …/export)", "export JSON (snapshot)"
    pairs = [("import", "import"), ("list ids", "list ids"), ("export trl-dpo (REST, streamed)", get)]
    pairs += [("export winnow (REST, streamed)", get), ("export trl-dpo (file)", get), ("export winnow (file)", get)]
    pairs += [("export winnow (REST, streamed)", snap)]
    lines = ["| records | Winnow step | Winnow | Label Studio step | Label Studio | LS ÷ Winnow |"]
    lines.append("|---|---|---|---|---|---|")
    for n in sizes:
        for ours, theirs in pairs:
            w, ls = results.get(("Winnow", n, ours)), results.get(("Label Studio", n, theirs))
            if ls is None and theirs == snap:
                continue
            ratio = "—"
            if w and ls and w[0] and ls[0] is not None:
                ratio = f"{ls[0] / w[0]:.1f}×" if ls[0] / w[0] < 10 else f"{ls[0] / w[0]:.0f}×"
            lines.append(f"| {n:,} | {ours} | {cell(('Winnow', n, ours))} | {theirs} | "
                         f"{cell(('Label Studio', n, theirs))} | {ratio} |")  # fmt: skip
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", default="1000,10000", help="comma-separated sizes, one run each")
    parser.add_argument("--page-size", type=int, default=100, help="ids per page when listing (both apps)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds any one request may take")
    parser.add_argument("--snapshot", action="store_true", help="also time Label Studio's snapshot export")
    parser.add_argument("--only", default="winnow,labelstudio")
    parser.add_argument("--ls-steps", default="import,list,export", help="Label Studio's steps after import: "
                        "import[,list][,export]")  # fmt: skip
    args = parser.parse_args()
    if "labelstudio" in args.only and not (LS_BIN / "label-studio").exists():
        parser.error("Label Studio is not installed: bash benchmarks/setup_labelstudio.sh")
    sizes = [int(s) for s in args.records.split(",")]
    rows = hh_rows()
    results: dict = {}
    work = Path(tempfile.mkdtemp(prefix="winnow-vs-ls-"))
    try:
        for n in sizes:
            if "winnow" in args.only:
                print(f"Winnow, {n:,} records (load average {os.getloadavg()[0]:.1f})", flush=True)
                run_winnow(n, rows, args, work, results)
        if "labelstudio" in args.only:
            (work / "ls").mkdir()
            t = time.perf_counter()
            with label_studio(work / "ls", args.timeout) as ls:  # one server (its start migrates a fresh database)
                print(f"Label Studio up in {time.perf_counter() - t:.0f} s", flush=True)
                for n in sizes:
                    print(f"Label Studio, {n:,} records (load average {os.getloadavg()[0]:.1f})", flush=True)
                    run_label_studio(ls, n, rows, args, work, results)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(table(results, sizes))
    print(f"\nload average {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
