"""Child processes of the real-client tests (LibreOffice, dovecot): free ports and whole process groups.

Both servers fork helpers (oosplash + soffice.bin; the dovecot master and its services), so they run in
their own process group and are ended as a group; a container's init may never reap zombies, so "gone"
means no non-zombie member is left.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def group_alive(pgid: int) -> bool:
    """Whether any non-zombie process of the group is left."""
    proc_dir = Path("/proc")
    if not proc_dir.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc_dir.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        if fields[0] != "Z" and int(fields[2]) == pgid:  # state, ppid, pgrp
            return True
    return False


def end_group(proc: subprocess.Popen, grace: float = 10.0, kill_wait: float = 10.0) -> None:
    """SIGTERM the process group of ``proc``, SIGKILL what is left after ``grace`` seconds, and wait (up to
    ``kill_wait`` more) until no member runs any more."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, kill_wait)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + wait
        while True:
            try:
                proc.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass
            if proc.poll() is not None and not group_alive(proc.pid):
                return
            if time.monotonic() >= deadline:
                break


def run_bounded(args: list[str], timeout: float, what: str) -> subprocess.CompletedProcess:
    """Run a command in its own process group and return its text output; after ``timeout``
    seconds the whole group (soffice and its helpers too) is killed and the test fails."""
    import pytest

    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"{what} did not finish within {timeout} s: {' '.join(map(str, args))}")
    return subprocess.CompletedProcess(args, proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))
