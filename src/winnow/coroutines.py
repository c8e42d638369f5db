"""Run a coroutine to completion from synchronous code, whether or not the caller runs an event loop.

``asyncio.run`` refuses to start inside a thread that already runs a loop (a Jupyter cell, or a program
driving Playwright's sync API, whose loop stays on the main thread). The engines that are async inside
(the crawler, the synthetic-data stage) are called from plain steps, so they go through here: in a
thread with no running loop it is ``asyncio.run``; otherwise the coroutine runs on a fresh loop in a
worker thread and the caller waits for it. Exceptions, including KeyboardInterrupt, reach the caller.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    outcome: dict[str, Any] = {}

    def run_in_thread() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as error:  # handed to the caller's thread, re-raised there
            outcome["error"] = error

    worker = threading.Thread(target=run_in_thread, name="winnow-coroutine", daemon=True)
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
