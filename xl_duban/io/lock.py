"""One writer at a time: a lock file beside the ledger for the whole read → change → write of
a command, so two commands run at once cannot both read the old ledger and the second
silently overwrite the first one's work.

The lock is a small text file ``.~duban锁.{ledger name}`` created with O_EXCL (atomic on every
local and SMB file system) holding who holds it. A lock left by a process that no longer
exists (a killed command) is taken over. Within one process the lock is re-entrant, so a
service that loads and saves twice does not wait for itself.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from datetime import datetime
from pathlib import Path

from ..errors import LedgerError

WAIT_SECONDS = 30.0  # how long a second command waits before refusing
_held: dict[Path, int] = {}  # ledger lock files this process holds → nesting depth


def lock_path(ledger: Path) -> Path:
    return ledger.with_name(f".~duban锁.{ledger.name}")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)
        if handle:
            ctypes.windll.kernel32.CloseHandle(handle)
            return True
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _stale(info: dict) -> bool:
    """A lock whose process has gone (same machine only: another machine's pid means nothing here)."""
    return bool(info) and info.get("host") == socket.gethostname() and not pid_alive(int(info.get("pid", 0)))


def acquire(ledger: Path, *, command: str = "", wait: float | None = None, poll: float = 0.2) -> None:
    """Take the ledger's lock, waiting up to ``wait`` seconds for another command to finish."""
    path = lock_path(Path(ledger).resolve())
    if path in _held:
        _held[path] += 1
        return
    deadline = time.monotonic() + (WAIT_SECONDS if wait is None else wait)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "command": command or " ".join(sys.argv[:2]),
          "since": datetime.now().isoformat(timespec="seconds")}
    while True:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            info = _holder(path)
            if _stale(info):
                _remove(path)
                continue
            if time.monotonic() >= deadline:
                who = f"（{info.get('command') or '另一个督办命令'}，进程 {info.get('pid', '?')}，开始于 {info.get('since', '?')}）" if info else ""
                raise LedgerError(f"另一个督办命令正在修改台账“{Path(ledger).name}”{who}，为防止互相覆盖，本次未作任何修改。"
                                  f"请等它结束后重试；如确认没有命令在运行，可删除文件“{path.name}”。") from None
            time.sleep(poll)
            continue
        except FileNotFoundError:
            return  # the folder does not exist: nothing to protect, the store reports the missing file
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(me, fh, ensure_ascii=False)
        _held[path] = 1
        return


def release(ledger: Path) -> None:
    """Give the lock back (the outermost release of this process removes the file)."""
    path = lock_path(Path(ledger).resolve())
    depth = _held.get(path, 0)
    if depth > 1:
        _held[path] = depth - 1
    elif depth == 1:
        del _held[path]
        _remove(path)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
