"""The files beside the ledger: archive/ of everything issued and collected, quarantine/ of
refused returns.

The office must be able to show, years later, exactly which file it sent a unit and which
file the unit sent back (DESIGN §6): every issued workbook is copied to
``archive/{period}/{unit}/`` and every returned file is kept there by hash under ``收回/``,
written once and never overwritten. A refused return also goes to ``quarantine/`` with a
``退回原因.txt`` note the clerk can forward to the unit.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

from ..domain.issuing import file_safe

QUARANTINE = "quarantine"


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes: the identity of a source in 变更日志 and archives."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def archive_dir(ledger_path: Path, period: str, unit: str) -> Path:
    """``archive/{period}/{unit}/`` beside the ledger (DESIGN §6): issued and collected files."""
    return ledger_path.parent / "archive" / period / file_safe(unit)


def quarantine_dir(ledger_path: Path) -> Path:
    """``quarantine/`` beside the ledger: rejected returns, each with a 退回原因 note."""
    return ledger_path.parent / QUARANTINE


def archive_issued(ledger_path: Path, period: str, unit: str, path: Path) -> Path:
    """Copy an issued workbook into the archive (send attaches the archived copy, wherever
    the workbook was written)."""
    archived = archive_dir(ledger_path, period, unit) / path.name
    archived.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, archived)
    return archived


def issued_file(ledger_path: Path, period: str, unit: str) -> Path | None:
    """The newest archived workbook issued to this unit for this period."""
    files = sorted(archive_dir(ledger_path, period, unit).glob("*.xlsx"), key=lambda p: p.stat().st_mtime)
    return files[-1] if files else None


def quarantined_hashes(ledger_path: Path) -> set[str]:
    """The 12-character hash prefixes of the files refused before and waiting in quarantine/
    (known without the ledger); deleting a file from quarantine/ lets it be checked again."""
    folder = quarantine_dir(ledger_path)
    return {p.name[:12] for p in folder.iterdir() if p.name[12:13] == "_"} if folder.is_dir() else set()


def write_once(path: Path, data: bytes, stamp: float | None = None) -> None:
    """Write ``data`` to ``path`` unless it exists (a kept file is never overwritten), atomically;
    dated ``stamp`` (a POSIX time) when given."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    if stamp is not None:
        os.utime(tmp, (stamp, stamp))
    os.replace(tmp, path)


NAME_BYTES = 180  # of a kept file's own name (255 bytes is the limit of most file systems; room for the note's suffix)


def stored_name(file_name: str) -> str:
    """A returned file's name as kept: characters Windows forbids and control characters
    replaced, cut (keeping its extension) to fit any file system — a sender chooses it."""
    safe = re.sub(r"[\x00-\x1f\x7f]", "_", file_safe(file_name)) or "_"
    stem, dot, suffix = safe.rpartition(".")
    if not dot or len(suffix) > 8:
        stem, suffix = safe, ""
    ending = f".{suffix}" if suffix else ""
    room = NAME_BYTES - len(ending.encode("utf-8"))
    stem = stem.encode("utf-8")[:room].decode("utf-8", "ignore")
    return stem + ending


def keep_return(ledger_path: Path, file_name: str, data: bytes, digest: str, period: str | None, unit: str | None,
                refusal: str | None, received: float | None = None) -> Path | None:
    """Keep a returned file: archived by hash under ``archive/{period}/{unit}/收回/`` when its
    issue is known; a refused one (``refusal`` holds the note) also in quarantine/ beside its
    ``退回原因.txt``, dated ``received`` (a POSIX time) so that the clerk's ``--accept`` of it
    keeps the time the office received it. Returns where it was stored last (None when nowhere)."""
    prefix = f"{digest[:12]}_{stored_name(file_name)}"
    stored = None
    if period is not None:
        stored = archive_dir(ledger_path, period, unit) / "收回" / prefix
        write_once(stored, data)
    if refusal is not None:
        stored = quarantine_dir(ledger_path) / prefix
        write_once(stored, data, received)
        write_once(stored.with_name(stored.name + ".退回原因.txt"), refusal.encode("utf-8"))
    return stored
