"""Finding a stuck asyncio loop with the standard library: faulthandler.dump_traceback_later, a watchdog thread
reading sys._current_frames(), and asyncio.all_tasks() with each task's stack for a task stuck in an await.

Each stall is forced: the loop blocks on a threading.Event that only the tool's report (or a bounded timeout)
sets, so the tool sees the loop blocked on every run. Prints one JSON object on stdout (probelib facts first).
"""

import asyncio
import faulthandler
import sys
import tempfile
import threading
import time

from probelib import emit


def blocking_handler(release, timeout):
    """The stuck callback: blocks the loop's thread (the frame every tool must name)."""
    release.wait(timeout)


def faulthandler_case(after):
    """faulthandler.dump_traceback_later: a timer thread inside the interpreter dumps every thread's stack."""
    release = threading.Event()

    async def main():
        with tempfile.TemporaryFile("w+") as out:
            faulthandler.dump_traceback_later(after, repeat=False, file=out)
            start = time.monotonic()
            # The loop never gets control back in here: it is blocked in slices of after/4 until the dump has
            # been written (at `after`), or for 20 * after at most, so the dump always finds it blocked.
            deadline = start + 20 * after
            while time.monotonic() < deadline:
                blocking_handler(release, after / 4)
                out.flush()
                if out.tell() > 0:
                    break
            faulthandler.cancel_dump_traceback_later()
            blocked_for = time.monotonic() - start
            out.seek(0)
            text = out.read()
        return text, blocked_for

    text, blocked_for = asyncio.run(main())
    lines = [l.strip() for l in text.splitlines()]
    return {
        "dumped": bool(text),
        "names_blocking_frame": any("blocking_handler" in l for l in lines),
        "names_coroutine": any(l.endswith("in main") for l in lines),
        "first_lines": lines[:4],
        "blocked_ms": blocked_for * 1000,
    }


def current_frames_case(threshold):
    """A watchdog thread: asks the loop for a heartbeat; if none comes within threshold, reads the loop thread's
    frame with sys._current_frames() and releases it."""
    release = threading.Event()
    report = {}

    async def main():
        loop = asyncio.get_running_loop()
        loop_thread = threading.get_ident()
        beat = threading.Event()

        def watchdog():
            loop.call_soon_threadsafe(beat.set)
            if not beat.wait(threshold):
                frame = sys._current_frames().get(loop_thread)
                names = []
                while frame is not None:
                    names.append(frame.f_code.co_name)
                    frame = frame.f_back
                report["stack"] = names
            release.set()

        dog = threading.Thread(target=watchdog, name="loop-watchdog")
        dog.start()
        blocking_handler(release, 20)  # Broken: blocks the loop; only the watchdog releases it
        await asyncio.sleep(0)
        dog.join()

    asyncio.run(main())
    stack = report.get("stack", [])
    return {"reported": bool(stack), "innermost_app_frame": next((n for n in stack if n != "wait"), None),
            "stack": stack[:6]}


def all_tasks_case():
    """A task stuck in an await (the loop is fine, the task never wakes): asyncio.all_tasks() lists it and
    task.get_stack() shows the coroutine frame it is suspended in."""

    async def waits_forever(never):
        await never

    async def main():
        never = asyncio.get_running_loop().create_future()  # nobody ever sets it
        stuck = asyncio.create_task(waits_forever(never), name="stuck-task")
        await asyncio.sleep(0)  # let it reach its await
        me = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not me]
        found = [{"name": t.get_name(), "frames": [f.f_code.co_name for f in t.get_stack()],
                  "done": t.done()} for t in pending]
        stuck.cancel()
        try:
            await stuck
        except asyncio.CancelledError:
            pass
        return found

    return {"pending": asyncio.run(main())}


def main():
    emit({
        "faulthandler": faulthandler_case(0.2),
        "current_frames": current_frames_case(0.2),
        "all_tasks": all_tasks_case(),
    })


if __name__ == "__main__":
    main()
