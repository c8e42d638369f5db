"""winnow feedback at scale, on SQLite and on PostgreSQL (a throw-away cluster, as the tests start it):

* import 100,000 preference records (real HH-RLHF pairs, repeated under new ids) — target < 30 s;
* next task + submit round trip over HTTP (uvicorn in its own process, loopback) with 1, 10 and 50
  concurrent annotators — p50/p95, target p95 < 50 ms at 50;
* export 100,000 answered records to trl-dpo — target < 15 s;
* Krippendorff's alpha on 100,000 answers (50,000 records × 2 annotators) — target < 5 s.

    .venv/bin/python benchmarks/feedback_bench.py [--records 100000] [--seconds 8] [--db sqlite,postgresql]
        [--only import,export,agreement,latency] [--clients 1,10,50] [--think 0] [--workers 1]

``--think SECONDS``: each annotator waits that long (uniformly 0.5×–1.5×) between a submit and
their next task, as a person reading the record would; without it, 50 annotators are 50 clients
hammering in a loop. Each latency line also gives round trips per second and the server process's
CPU milliseconds per round trip (user + system, from /proc), which do not depend on how busy the
benchmark's own client threads keep the machine.

Answers for the export and agreement figures are written with one bulk UPDATE (the HTTP path is what
the latency figures measure). Label Studio runs side by side in benchmarks/feedback_vs_labelstudio.py
(figures in docs/feedback.md)."""

from __future__ import annotations

import argparse
import gzip
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson
from sqlalchemy import select, update

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "feedback"), str(ROOT / "tests")]
os.environ.setdefault("WINNOW_FEEDBACK_ARGON2", "fast")

from pg_cluster import remove, start_cluster  # noqa: E402
from webserver import login, process_server  # noqa: E402

from winnow.feedback.service import Feedback  # noqa: E402
from winnow.feedback.store import Assignment, User  # noqa: E402

HH = ROOT / "tests" / "data" / "shared" / "sft" / "hh-rlhf" / "harmless-base-test.jsonl.gz"


def make_input(n: int, work: Path) -> Path:
    """``n`` HH-RLHF rows (the 400 real pairs of the excerpt, repeated) with unique ids."""
    path = work / f"hh-{n}.jsonl"
    rows = [orjson.loads(line) for line in gzip.decompress(HH.read_bytes()).splitlines()]
    with open(path, "wb") as f:
        for i in range(n):
            f.write(orjson.dumps({"id": f"hh-{i}", **rows[i % len(rows)]}) + b"\n")
    return path


def fill_answers(fb: Feedback, project: str, users: list[str], seed: int = 0) -> int:
    """Every slot of ``project`` answered (slot k by users[k]), in bulk."""
    p = fb.projects.get(project)
    rng = random.Random(seed)
    with fb.db.write() as s:
        ids = {u: s.scalar(select(User.id).where(User.name == u)) for u in users}
        slots = s.execute(select(Assignment.id, Assignment.slot).where(Assignment.project_id == p.id)).all()
        by_choice: dict[tuple[int, str], list[int]] = {}
        for slot_id, k in slots:
            by_choice.setdefault((k, rng.choice(["A", "A", "B", "tie"])), []).append(slot_id)
        now = time.time()
        from datetime import UTC, datetime

        stamp = datetime.fromtimestamp(now, UTC)
        for (k, choice), chunk in by_choice.items():
            for start in range(0, len(chunk), 20000):
                s.execute(
                    update(Assignment)
                    .where(Assignment.id.in_(chunk[start : start + 20000]))
                    .values(
                        state="submitted",
                        user_id=ids[users[k]],
                        value={"choice": choice},
                        leased_at=stamp,
                        submitted_at=stamp,
                        seconds=3.0,
                        guideline_version=1,
                    )  # fmt: skip
                    .execution_options(synchronize_session=False)
                )
    return len(slots)


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) the process and its live children (uvicorn's worker processes with
    ``--workers N``) have used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(server_cpu(int(child)) for child in children)


def latency(db_url: str, clients: int, seconds: float, think: float = 0.0, workers: int = 1) -> dict[str, float]:
    """p50/p95 ms of next + submit with ``clients`` concurrent annotators, round trips, round trips
    per second, and the server's CPU ms per round trip."""
    samples: list[float] = []
    lock = threading.Lock()
    with process_server(db_url, workers=workers) as (url, proc):
        sessions = [login(url, f"lat{i}", f"pw-lat{i}-long") for i in range(clients)]
        cpu, started = server_cpu(proc.pid), time.monotonic()
        deadline = started + seconds

        def loop(client, seed: int) -> None:  # type: ignore[no-untyped-def]
            rng = random.Random(seed)
            if think:
                time.sleep(rng.uniform(0, think))  # the annotators do not all start at the same instant
            while time.monotonic() < deadline:
                t = time.perf_counter()
                task = client.post("/api/projects/latency/next").json()["task"]
                if task is None:
                    return
                client.post(f"/api/projects/latency/tasks/{task['id']}/submit", json={"value": {"choice": "A"}})
                with lock:
                    samples.append((time.perf_counter() - t) * 1000)
                if think:
                    time.sleep(think * rng.uniform(0.5, 1.5))

        threads = [threading.Thread(target=loop, args=(c, i)) for i, c in enumerate(sessions)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed, cpu = time.monotonic() - started, server_cpu(proc.pid) - cpu
    samples.sort()
    n = len(samples)
    return {
        "p50": statistics.median(samples), "p95": samples[int(0.95 * (n - 1))], "n": n,
        "per_s": n / elapsed, "cpu_ms": 1000 * cpu / max(n, 1),
    }  # fmt: skip


PARTS = ("import", "export", "agreement", "latency")


def run(db_url: str, name: str, args: argparse.Namespace, work: Path) -> None:
    records, only = args.records, set(args.only.split(","))
    fb = Feedback.open(db_url, create=True)
    if only & {"import", "export"}:
        data = make_input(records, work)
        fb.projects.create("bulk", "pairwise", overlap=1)
        t, cpu = time.perf_counter(), time.process_time()
        summary = fb.import_records("bulk", data)
        print(
            f"{name}: import {summary.added:,} records: {time.perf_counter() - t:.1f} s "
            f"({time.process_time() - cpu:.1f} s CPU in this process; load average {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    if "export" in only:
        fill_answers(fb, "bulk", ["a0"] if fb.users.add("a0", "annotator") else [])
        t = time.perf_counter()
        out = fb.export("bulk", "trl-dpo", work / f"{name}-dpo.jsonl")
        print(
            f"{name}: export {out.records:,} answered records -> {out.rows:,} trl-dpo rows: "
            f"{time.perf_counter() - t:.1f} s (load average {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    if "agreement" in only:
        fb.projects.create("agree", "pairwise", overlap=2)
        fb.import_records("agree", make_input(records // 2, work))
        fb.users.add("b0", "annotator")
        fb.users.add("b1", "annotator")
        answers = fill_answers(fb, "agree", ["b0", "b1"], seed=1)
        t, cpu = time.perf_counter(), time.process_time()
        report = fb.agreement("agree")
        print(
            f"{name}: agreement on {answers:,} answers: {time.perf_counter() - t:.1f} s "
            f"({time.process_time() - cpu:.1f} s CPU, alpha {report.alpha:.3f}; "
            f"load average {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    if "latency" in only:
        fb.projects.create("latency", "pairwise", overlap=3)
        fb.import_records("latency", make_input(20000, work))
        clients = [int(c) for c in args.clients.split(",")]
        for i in range(max(clients)):
            fb.users.add(f"lat{i}", "annotator", password=f"pw-lat{i}-long")
            fb.projects.add_member("latency", f"lat{i}", "annotator")
    fb.close()
    if "latency" in only:
        for n in clients:
            r = latency(db_url, n, args.seconds, args.think, args.workers)
            print(
                f"{name}: next+submit with {n:>2} annotators (think {args.think:g} s, {args.workers} worker"
                f"{'s' if args.workers > 1 else ''}): p50 {r['p50']:.1f} ms, "
                f"p95 {r['p95']:.1f} ms ({r['n']:,} round trips, {r['per_s']:.0f}/s, server CPU "
                f"{r['cpu_ms']:.1f} ms per round trip; load average {os.getloadavg()[0]:.1f})",
                flush=True,
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes of the server")
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of {PARTS}")
    parser.add_argument("--clients", default="1,10,50", help="concurrent annotators, one latency run each")
    parser.add_argument("--think", type=float, default=0.0, help="seconds an annotator takes per task")
    args = parser.parse_args()
    if unknown := set(args.only.split(",")) - set(PARTS):
        parser.error(f"--only: unknown part(s) {', '.join(sorted(unknown))}")
    work = Path(tempfile.mkdtemp(prefix="winnow-feedback-bench-"))
    for backend in args.db.split(","):
        if backend == "sqlite":
            run(f"sqlite:///{work / 'bench.db'}", "sqlite", args, work)
        else:
            cluster = start_cluster()
            try:
                run(cluster.new_database(), "postgresql", args, work)
            finally:
                remove(cluster)
    return 0


if __name__ == "__main__":
    sys.exit(main())
