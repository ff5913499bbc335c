"""A stopping server exits within its grace period, whatever its threads are doing.

After SIGTERM the server closes its sockets and sends its pushes (realtime.asgi.shutdown);
then the interpreter waits for every worker thread to finish. The thread of
`database_sync_to_async` and of the views may be stuck in a transaction that waits on a lock
or on a database that is gone, and the process would never exit: a service manager's SIGKILL
would end it later, without a word. Instead, SERVER_STOP_GRACE_SECONDS after SIGTERM the
process says which threads had not finished, and where they were, and exits. PostgreSQL rolls
back what such a thread had not committed, and nothing of it was acknowledged: the page sends
it again elsewhere.
"""

import logging
import os
import sys
import threading
import traceback

logger = logging.getLogger(__name__)

# The exit status of a server that had to leave work unfinished.
FORCED_EXIT_STATUS = 1
# Frames logged of each thread still busy, innermost last.
STACK_DEPTH = 30


def exit_within(seconds: float) -> None:
    """Called when the server starts stopping: the process ends `seconds` from now at the
    latest. The timer is a daemon thread: a process that exits sooner does not wait for it."""
    timer = threading.Timer(seconds, exit_now, kwargs={"seconds": seconds})
    timer.daemon = True
    timer.name = "exit-within-grace"
    timer.start()


def exit_now(*, seconds: float) -> None:
    frames = sys._current_frames()
    busy = [
        thread
        for thread in threading.enumerate()
        if thread.is_alive() and not thread.daemon and thread is not threading.main_thread()
    ]
    logger.error(
        "Server still not stopped %.1f s after SIGTERM: exiting now; threads not finished: %s "
        "(what they had not committed is rolled back)",
        seconds,
        ", ".join(sorted(thread.name for thread in busy)) or "none",
    )
    for thread in busy:
        frame = frames.get(thread.ident or 0)
        if frame is not None:
            stack = "".join(traceback.format_stack(frame, limit=STACK_DEPTH))
            logger.info("Where %s was:\n%s", thread.name, stack)
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(FORCED_EXIT_STATUS)
