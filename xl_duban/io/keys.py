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
    """The 32-byte HMAC key; generated with ``secrets`` and stored owner-readable only."""
    path = config_dir() / KEY_FILE
    if path.exists():
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex())
    os.replace(tmp, path)
    return key
