"""The error log: tracebacks of what went wrong, for whoever maintains the program.

A traceback may hold a unit's file name, a mail address or a path of the office's machine,
so the log is private to the user (created 0600, in the user's own config folder, not in a
shared temporary folder), and every entry says which file or command it was about.
"""

from __future__ import annotations

import os
import re
import traceback
from datetime import datetime
from pathlib import Path

from .keys import config_dir

LOG_FILE = "error.log"
MAX_LOG_BYTES = 4 * 2**20  # past this the old log is set aside (one generation kept)


def error_log_path() -> Path:
    return config_dir() / LOG_FILE


def log_failure(context: str) -> Path:
    """Append the exception being handled, under ``context`` (the command, and the file it
    was on), to the private error log; returns the log's path. Never raises: a log that
    cannot be written must not turn one file's failure into the run's."""
    path = error_log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if path.exists() and path.stat().st_size > MAX_LOG_BYTES:
            os.replace(path, path.with_name(LOG_FILE + ".1"))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            line = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", context)
            fh.write(f"--- {datetime.now().isoformat()} {line}\n{traceback.format_exc()}\n")
    except OSError:
        pass
    return path
