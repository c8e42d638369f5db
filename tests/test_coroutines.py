"""run_coroutine runs an engine's coroutine from sync code, also where the caller's thread already
runs an event loop (where asyncio.run refuses)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from winnow.coroutines import run_coroutine

pytestmark = pytest.mark.core


async def _answer(value: int) -> tuple[int, str]:
    await asyncio.sleep(0)
    return value * 2, threading.current_thread().name


async def _fail() -> None:
    await asyncio.sleep(0)
    raise ValueError("the engine failed")


def in_fresh_thread(fn):
    """Call ``fn`` in a new thread, which runs no event loop (pytest's main thread may: Playwright's
    sync API leaves its loop running there for the rest of the session)."""
    outcome = {}

    def call() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as error:
            outcome["error"] = error

    worker = threading.Thread(target=call, name="fresh")
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_without_a_running_loop_it_runs_in_the_calling_thread():
    value, thread = in_fresh_thread(lambda: run_coroutine(_answer(21)))
    assert value == 42
    assert thread == "fresh"


def test_inside_a_running_loop_it_runs_in_a_worker_thread_and_returns_the_value():
    async def caller() -> tuple[int, str]:
        with pytest.raises(RuntimeError):  # what the engines hit before
            asyncio.run(_answer(1))
        return run_coroutine(_answer(21))

    value, thread = in_fresh_thread(lambda: asyncio.run(caller()))
    assert value == 42
    assert thread == "winnow-coroutine"


def test_an_exception_reaches_the_caller_inside_a_running_loop():
    async def caller() -> None:
        run_coroutine(_fail())

    with pytest.raises(ValueError, match="the engine failed"):
        in_fresh_thread(lambda: asyncio.run(caller()))
