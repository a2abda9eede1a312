"""Process groups for tools/launch.py: stopping a service together with everything it
started, and children that do not outlive the launcher."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Callable, List, Optional

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
KILL_WAIT = 5.0  # after SIGKILL; only a process stuck in the kernel takes longer


def group_alive(pgid: int) -> bool:
    """Whether a live process is left in process group ``pgid``.

    Reads /proc where there is one, because kill(-pgid, 0) also counts zombies, and an
    orphaned zombie stays until PID 1 reaps it, which some container inits never do."""
    if not os.path.isdir("/proc/self"):
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(os.path.join(entry.path, "stat"), "rb") as stat:
                # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # it ended meanwhile
        if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


def _running(proc: subprocess.Popen, group: bool) -> bool:
    alive = proc.poll() is None  # also reaps the leader
    return group_alive(proc.pid) if group else alive


def _send(proc: subprocess.Popen, signum: int, group: bool) -> None:
    try:
        if group:
            os.killpg(proc.pid, signum)
        elif proc.poll() is None:
            proc.send_signal(signum)
    except (ProcessLookupError, PermissionError):
        pass


def stop_groups(procs: List[subprocess.Popen], grace: float, group: bool = True) -> None:
    """SIGTERM, then after ``grace`` seconds SIGKILL, to each process's group (each was started
    with start_new_session, so its pid is its group's id) or, with ``group=False``, to the process
    alone. Returns when all are gone, or KILL_WAIT seconds after SIGKILL at the latest."""
    pending = [p for p in procs if _running(p, group)]
    for signum, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, KILL_WAIT)):
        if not pending or wait <= 0:
            continue
        for proc in pending:
            _send(proc, signum, group)
        deadline = time.monotonic() + wait
        while pending and time.monotonic() < deadline:
            time.sleep(0.05)
            pending = [p for p in pending if _running(p, group)]


def die_with_parent() -> Optional[Callable[[], None]]:
    """A ``preexec_fn`` that has Linux send the child SIGTERM when the launcher dies, even by
    SIGKILL (which no handler sees), so that no service is left holding its port.

    None off Linux, and off the main thread: the kernel ties the signal to the thread that
    started the child, and a worker thread may end long before the launcher."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent, sigterm = os.getpid(), int(signal.SIGTERM)

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, sigterm, 0, 0, 0)
        if os.getppid() != parent:  # the launcher died before prctl took effect
            os._exit(1)

    return preexec
