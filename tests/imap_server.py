"""A real IMAP server for tests: Debian's dovecot, started by the tests themselves on a free local port.

    from tests.imap_server import ImapServer, imap_server  # noqa: F401  (``imap_server`` is a fixture)

    def test_something(imap_server: ImapServer):
        imap_server.deliver(raw_rfc822_bytes)          # lands in INBOX as UNSEEN
        client = imaplib.IMAP4(imap_server.host, imap_server.port)
        client.login(imap_server.user, imap_server.password)

Why it is self-contained and (as far as dovecot allows) rootless
-----------------------------------------------------------------
Installing ``dovecot-imapd`` may start a system dovecot on port 143 with ``/etc/dovecot``. The tests never
touch it: ``start_imap_server(tmp_dir)`` writes its own ``dovecot.conf`` into ``tmp_dir`` (nothing is
included from ``/etc``) and runs ``dovecot -F -c tmp_dir/dovecot.conf`` as a child process, in the
foreground, so the test owns it and ``stop()`` ends it. Everything dovecot writes lives in ``tmp_dir``:
``base_dir`` (sockets, pid file) ``run/``, ``state_dir`` ``state/``, the log ``dovecot.log`` (plus
``dovecot.out`` for what the master prints before its log is open), the passwd-file ``passwd`` and the
Maildir. (Only when ``tmp_dir`` is so deep that the sockets would pass the 108-byte limit of a unix socket
path does ``base_dir`` go to a short private ``/tmp/imaptest-*``, removed by ``stop()``.) It listens on
``127.0.0.1`` only, on a port the OS reports free at start-up (retried if another process grabs it first),
never 143, with plain IMAP and no TLS (``ssl = no``, cleartext LOGIN allowed); the imaps listener is off.
One user, with a ``{PLAIN}`` password in a passwd-file passdb and a static userdb. A wrong password is
answered without the usual 2 s delay and without anvil's growing per-IP penalty (up to 15 s), so tests of
refused logins stay fast.

Dovecot normally starts as root and switches to the ``dovecot``/``dovenull`` users. As an ordinary user it
runs "rootless": every internal, login and mail process runs as the current user, which the config names in
``default_internal_user`` / ``default_login_user`` and in the static userdb (uid, gid, home); the chroots of
the login and anvil services are switched off, since only root can chroot.

Run as root (as in CI containers), dovecot refuses two things whatever the config says: login processes
running as root, and mail access as uid 0. So under root the master, auth and the internal services run
as root, ``imap-login`` runs as ``dovenull`` (created by the package; ``nobody`` otherwise) in its default
chroot, and the mail processes run as ``nobody``. Since ``tmp_dir`` usually sits below a 0700 directory
(pytest's ``/tmp/pytest-of-root``) that ``nobody`` cannot enter, the mail processes are chrooted into
``tmp_dir/mail`` by the userdb home ``tmp_dir/mail/./<user>`` (allowed by ``valid_chroot_dirs``); the
chroot is entered as root, so the directories above it need no permissions for ``nobody``.

``deliver()`` writes a message the way a local delivery agent does: into the Maildir ``tmp/`` and renamed
into ``new/``. Dovecot picks such files up at the next SELECT/NOOP/SEARCH and reports them as UNSEEN
(\\Recent, no \\Seen). The bytes are stored unchanged.

Dovecot 2.3 (Debian 12) and 2.4 (Debian 13) have different config syntaxes; the installed version is read
from ``dovecot --version`` and the matching file is written (both were run, as root and as an ordinary
user: 2.3.19 and 2.4.1). Every wait has a time limit; ``stop()`` sends SIGTERM to dovecot's process group
and SIGKILL after 10 s.
"""

from __future__ import annotations

import grp
import itertools
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Iterator

import pytest

from .processes import end_group, free_port

HOST = "127.0.0.1"
USER = "tester"
START_TIMEOUT = 15.0  # seconds until the server must greet with "* OK"
STOP_TIMEOUT = 10.0  # seconds for a clean shutdown before SIGKILL
PORT_ATTEMPTS = 3  # a free port can be taken by someone else before dovecot binds it
SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")  # dovecot lives in sbin, often not on a user's PATH
UNIX_PATH_MAX = 107  # sun_path is 108 bytes with the trailing NUL
LONGEST_SOCKET = 32  # "token-login/imap-urlauth" and friends, with room to spare

_delivery_counter = itertools.count(1)


class DovecotError(RuntimeError):
    """Dovecot could not be started (the message carries the end of its log)."""


# -- availability ----------------------------------------------------------------------------------------------
def find_dovecot() -> str | None:
    """Path of the ``dovecot`` binary, looking in the sbin directories too."""
    return shutil.which("dovecot") or shutil.which("dovecot", path=os.pathsep.join(SBIN_DIRS))


@lru_cache(maxsize=None)
def dovecot_version(binary: str) -> tuple[int, ...]:
    """``(2, 3, 19, 1)`` from ``dovecot --version`` ("2.3.19.1 (9b53102964)")."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    match = re.match(r"\s*(\d+(?:\.\d+)+)", out)
    if match is None:
        raise DovecotError(f"cannot read the version from `{binary} --version`: {out!r}")
    return tuple(int(part) for part in match.group(1).split("."))


@lru_cache(maxsize=None)
def dovecot_unavailable_reason() -> str | None:
    """Why no dovecot can be started here, or None when it can."""
    binary = find_dovecot()
    if binary is None:
        return "`dovecot` not found (install dovecot-imapd)"
    try:
        version = dovecot_version(binary)
    except (OSError, subprocess.SubprocessError, DovecotError) as exc:
        return f"`{binary} --version` failed: {exc}"
    if version < (2, 3):
        return f"dovecot {'.'.join(map(str, version))} is too old (2.3 or 2.4 needed)"
    return None


def require_dovecot() -> None:
    """Skip the calling test when dovecot is missing; fail instead when the CI variable is set."""
    reason = dovecot_unavailable_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {reason}; the real-IMAP tests must run in CI", pytrace=False)
        pytest.skip(reason)


# -- helpers ---------------------------------------------------------------------------------------------------


def _greets(port: int) -> bool:
    """Whether a connection to ``port`` gets an IMAP "* OK" greeting (the master accepts connections
    before its login process is up, and closes them at once if that process cannot start)."""
    try:
        with socket.create_connection((HOST, port), timeout=1.0) as conn:
            conn.settimeout(2.0)
            line = b""
            while not line.endswith(b"\n") and len(line) < 4096:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                line += chunk
            if line.startswith(b"* OK"):
                conn.sendall(b"z LOGOUT\r\n")
                return True
    except OSError:
        pass
    return False






def _check_conf_value(name: str, value: str) -> str:
    """Values go into dovecot.conf unquoted, some inside space-separated ``args``: refuse what would break."""
    if not value or re.search(r"[\s\"'#%${}\\]", value):
        raise ValueError(f"{name} {value!r} cannot be written into dovecot.conf (no spaces, quotes, #, %, $, braces)")
    return value


# -- the server ------------------------------------------------------------------------------------------------
@dataclass
class _Layout:
    """Who runs what, and where everything lives."""

    root: Path
    run_dir: Path
    chroot: Path | None  # the mail chroot under root, or None when rootless
    home: Path  # the user's home as the mail process sees it (inside the chroot, if any)
    maildir: Path  # the user's Maildir as seen from here
    internal_user: str
    internal_group: str
    login_user: str
    mail_uid: int
    mail_gid: int


@dataclass
class ImapServer:
    """A running dovecot serving one user's INBOX over plain IMAP on ``host``:``port``."""

    host: str
    port: int
    user: str
    password: str
    root: Path
    version: tuple[int, ...]
    maildir: Path
    log_path: Path
    _layout: _Layout = field(repr=False)
    _proc: subprocess.Popen | None = field(default=None, repr=False)
    _out: IO[bytes] | None = field(default=None, repr=False)
    _private_run_dir: Path | None = field(default=None, repr=False)

    def __enter__(self) -> "ImapServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def deliver(self, message_bytes: bytes, received_at: float | None = None) -> None:
        """Put a raw RFC 822 message into the user's INBOX as UNSEEN (Maildir ``tmp/`` then ``new/``),
        received at ``received_at`` (a POSIX time; dovecot's INTERNALDATE is a Maildir file's time)."""
        if not isinstance(message_bytes, (bytes, bytearray)):
            raise TypeError(f"message_bytes must be bytes, not {type(message_bytes).__name__}")
        now = time.time()
        name = (f"{int(now)}.M{int(now % 1 * 1_000_000)}P{os.getpid()}Q{next(_delivery_counter)}"
                f"R{secrets.token_hex(4)}.imaptest")
        tmp_file = self.maildir / "tmp" / name
        tmp_file.write_bytes(bytes(message_bytes))
        tmp_file.chmod(0o600)
        if received_at is not None:
            os.utime(tmp_file, (received_at, received_at))
        self._own(tmp_file)
        os.rename(tmp_file, self.maildir / "new" / name)

    def stop(self) -> None:
        """End dovecot (SIGTERM, then SIGKILL after a timeout). Safe to call more than once."""
        if self._proc is not None:
            end_group(self._proc, STOP_TIMEOUT, 5.0)
            self._proc = None
        if self._out is not None:
            self._out.close()
            self._out = None
        if self._private_run_dir is not None:
            shutil.rmtree(self._private_run_dir, ignore_errors=True)
            self._private_run_dir = None

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of dovecot's log and of what the master printed."""
        parts = []
        for path in (self.root / "dovecot.out", self.log_path):
            text = _read(path).strip()
            if text:
                parts.append(f"--- {path.name} ---\n" + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(parts) or "dovecot wrote no log"

    def _own(self, path: Path) -> None:
        if self._layout.chroot is not None:  # run as root: the mail processes are nobody
            os.chown(path, self._layout.mail_uid, self._layout.mail_gid)


def _layout(root: Path) -> _Layout:
    """Users and paths for running dovecot from ``root`` as the current user (see the module docstring)."""
    run_dir = root / "run"
    if len(str(run_dir)) + 1 + LONGEST_SOCKET > UNIX_PATH_MAX:
        # the sockets would not fit in sun_path: use a short private base_dir instead (removed by stop())
        run_dir = Path(tempfile.mkdtemp(prefix="imaptest-", dir="/tmp"))
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.getuid())
        group = grp.getgrgid(os.getgid()).gr_name
        home = root / "home" / USER
        return _Layout(root=root, run_dir=run_dir, chroot=None, home=home, maildir=home / "Maildir",
                       internal_user=me.pw_name, internal_group=group, login_user=me.pw_name,
                       mail_uid=me.pw_uid, mail_gid=os.getgid())
    login_user = "dovenull"
    try:
        pwd.getpwnam(login_user)
    except KeyError:
        login_user = "nobody"
    mail_user = pwd.getpwnam("nobody")
    chroot = root / "mail"
    return _Layout(root=root, run_dir=run_dir, chroot=chroot, home=Path("/") / USER,
                   maildir=chroot / USER / "Maildir", internal_user="root", internal_group="root",
                   login_user=login_user, mail_uid=mail_user.pw_uid, mail_gid=mail_user.pw_gid)


def render_config(version: tuple[int, ...], lay: _Layout, port: int, passwd_file: Path) -> str:
    """The whole dovecot.conf for ``version`` (2.3 or 2.4 syntax)."""
    for name, value in (("tmp_dir", str(lay.root)), ("base_dir", str(lay.run_dir)), ("user", lay.internal_user),
                        ("group", lay.internal_group), ("login user", lay.login_user)):
        _check_conf_value(name, value)
    v24 = version >= (2, 4)
    # the userdb home; "<chroot>/./<home>" makes dovecot chroot the mail process (as root) before it drops to uid
    userdb_home = f"{lay.chroot}/.{lay.home}" if lay.chroot else str(lay.home)
    rootless = lay.chroot is None
    lines = [
        f"# Written by tests/imap_server.py for dovecot {'.'.join(map(str, version))}: a private test server.",
    ]
    if v24:
        lines += ["dovecot_config_version = 2.4.0", "dovecot_storage_version = 2.4.0"]
    lines += [
        f"base_dir = {lay.run_dir}",
        f"state_dir = {lay.root / 'state'}",
        f"log_path = {lay.root / 'dovecot.log'}",
        "instance_name = imaptest",
        "protocols = imap",
        f"listen = {HOST}",
        "ssl = no",
        "auth_allow_cleartext = yes" if v24 else "disable_plaintext_auth = no",
        "auth_mechanisms = plain login",
        # no 2 s delay before answering a wrong password (dovecot still batches failures, up to ~1 s)
        "auth_failure_delay = 0",
        f"default_internal_user = {lay.internal_user}",
        f"default_internal_group = {lay.internal_group}",
        f"default_login_user = {lay.login_user}",
        f"first_valid_uid = {lay.mail_uid}",
        f"last_valid_uid = {lay.mail_uid}",
        f"first_valid_gid = {lay.mail_gid}",
    ]
    if lay.chroot is not None:
        lines.append(f"valid_chroot_dirs = {lay.chroot}")
    if v24:
        lines += ["mail_driver = maildir", "mail_path = ~/Maildir"]
    else:
        lines.append("mail_location = maildir:~/Maildir")
    lines += ["namespace inbox {", "  inbox = yes", "}"]
    if v24:
        lines += [
            "passdb passwd-file {", f"  passwd_file_path = {passwd_file}", "}",
            "userdb static {", "  fields {", f"    uid = {lay.mail_uid}", f"    gid = {lay.mail_gid}",
            f"    home = {userdb_home}", "  }", "}",
        ]
    else:
        lines += [
            "passdb {", "  driver = passwd-file", f"  args = {passwd_file}", "}",
            "userdb {", "  driver = static", f"  args = uid={lay.mail_uid} gid={lay.mail_gid} home={userdb_home}",
            "}",
        ]
    lines += ["service imap-login {"]
    if rootless:
        lines.append("  chroot =")
    lines += ["  inet_listener imap {", f"    port = {port}", "  }",
              "  inet_listener imaps {", "    port = 0", "  }", "}"]
    # no growing penalty after failed logins (it would slow a wrong-password test to 2, 4, 8, 15 s)
    lines += ["service anvil {", "  unix_listener anvil-auth-penalty {", "    mode = 0", "  }"]
    if rootless and not v24:  # 2.4 no longer chroots anvil
        lines.append("  chroot =")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _prepare(lay: _Layout, password: str) -> Path:
    """Directories, the passwd-file and an empty Maildir; returns the passwd-file."""
    for sub in ("state",):
        (lay.root / sub).mkdir(parents=True, exist_ok=True)
    lay.run_dir.mkdir(parents=True, exist_ok=True)
    passwd_file = lay.root / "passwd"
    passwd_file.write_text(f"{USER}:{{PLAIN}}{password}\n")
    passwd_file.chmod(0o600)
    owned = [lay.maildir.parent, lay.maildir] + [lay.maildir / sub for sub in ("cur", "new", "tmp")]
    for directory in owned:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if lay.chroot is not None:  # the chroot itself stays root's; the user's home inside it is nobody's
        lay.chroot.chmod(0o755)
        for directory in owned:
            os.chown(directory, lay.mail_uid, lay.mail_gid)
    return passwd_file


def start_imap_server(tmp_dir: Path, *, timeout: float = START_TIMEOUT) -> ImapServer:
    """Write a private dovecot.conf into ``tmp_dir``, start ``dovecot -F`` on a free port of 127.0.0.1 and
    return once it greets with "* OK". Use the result as a context manager, or call ``stop()``."""
    reason = dovecot_unavailable_reason()
    if reason is not None:
        raise DovecotError(reason)
    binary = find_dovecot()
    assert binary is not None
    version = dovecot_version(binary)
    root = Path(tmp_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    lay = _layout(root)
    private_run_dir = None if lay.run_dir.is_relative_to(root) else lay.run_dir
    try:
        password = "pw-" + secrets.token_hex(8)
        passwd_file = _prepare(lay, password)
        conf = root / "dovecot.conf"
        for _attempt in range(PORT_ATTEMPTS):
            port = free_port()
            conf.write_text(render_config(version, lay, port, passwd_file))
            server = ImapServer(host=HOST, port=port, user=USER, password=password, root=root, version=version,
                                maildir=lay.maildir, log_path=root / "dovecot.log", _layout=lay)
            server._out = open(root / "dovecot.out", "wb")  # what the master prints before its log is open
            try:
                server._proc = subprocess.Popen([binary, "-F", "-c", str(conf)], stdin=subprocess.DEVNULL,
                                                stdout=server._out, stderr=subprocess.STDOUT,
                                                start_new_session=True)
                _wait_until_ready(server, timeout)
            except BaseException as exc:
                server.stop()
                if isinstance(exc, OSError):
                    raise DovecotError(f"cannot start {binary}: {exc}") from exc
                if isinstance(exc, DovecotError) and "Address already in use" in _read(root / "dovecot.out"):
                    continue  # someone took the port between free_port() and dovecot's bind: try another
                raise
            server._private_run_dir, private_run_dir = private_run_dir, None  # now the server's to remove
            return server
        raise DovecotError(f"no free port for dovecot after {PORT_ATTEMPTS} attempts\n{server.log_tail()}")
    finally:
        if private_run_dir is not None:
            shutil.rmtree(private_run_dir, ignore_errors=True)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _wait_until_ready(server: ImapServer, timeout: float) -> None:
    assert server._proc is not None
    deadline = time.monotonic() + timeout
    while True:
        if server._proc.poll() is not None:
            raise DovecotError(f"dovecot exited with {server._proc.returncode} while starting on port "
                               f"{server.port}\n{server.log_tail()}")
        if _greets(server.port):
            return
        if time.monotonic() >= deadline:
            raise DovecotError(f"dovecot did not greet with '* OK' on port {server.port} within {timeout:.0f} s"
                               f"\n{server.log_tail()}")
        time.sleep(0.05)


# -- pytest ----------------------------------------------------------------------------------------------------
@pytest.fixture
def imap_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImapServer]:
    """A fresh dovecot with an empty INBOX for each test; skipped when dovecot is missing, a failure when the
    CI variable is set. (A short tmp dir keeps the socket paths within the 108-byte limit.)"""
    require_dovecot()
    with start_imap_server(tmp_path_factory.mktemp("imap")) as server:
        yield server
