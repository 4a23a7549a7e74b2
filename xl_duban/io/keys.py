"""The office's signing key: in the user's config directory, created on first use, never in a workbook."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

KEY_FILE = "signing.key"


def config_dir() -> Path:
    """``XL_DUBAN_CONFIG_DIR``, else %APPDATA%\\xl_duban on Windows, else ~/.config/xl_duban."""
    override = os.environ.get("XL_DUBAN_CONFIG_DIR")
    if override:
        return Path(override)
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "xl_duban"
    return Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "xl_duban"


def signing_key() -> bytes:
    """The 32-byte HMAC key; generated with ``secrets`` and stored owner-readable only.

    Created atomically: the key is written in full under a name of its own, then linked into
    place, which fails if another process was first — so two commands starting together on
    a new machine agree on one key (the one that won), and nobody reads half a key."""
    path = config_dir() / KEY_FILE
    if path.exists():
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{KEY_FILE}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_bytes(32).hex())
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:  # another process was first: its key is the key
            pass
        except OSError:  # a file system without hard links: create-if-absent instead
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w", encoding="ascii") as fh:
                    fh.write(tmp.read_text(encoding="ascii"))
    finally:
        tmp.unlink(missing_ok=True)
    return bytes.fromhex(path.read_text(encoding="ascii").strip())
