"""A throwaway Dovecot IMAP server and a connection-cutting TCP proxy for tests.

Usage (in pytest prefer the ``dovecot``, ``imap_account`` and ``tcp_proxy`` fixtures from
``tests/conftest.py``)::

    server = Dovecot()       # temp dir, dovecot.conf, self-signed cert, free ports
    server.start()           # dovecot -F -c <tmp>/dovecot.conf, waits for the greeting
    account = server.account()                     # fresh username = fresh empty mailbox
    uid = server.append(account.username, raw, datetime(2024, 1, 2, 9, 30, tzinfo=UTC))
    with server.connect(account.username) as client:   # logged-in IMAPClient (plain port)
        ...
    server.close()           # stop + delete the temp dir (also done at interpreter exit)

Any username logs in with ``server.password``; each username gets its own maildir under
``<tmp>/home/<username>``, so tests isolate themselves by picking a fresh username instead
of restarting the server. ``imap_port`` speaks plain IMAP with STARTTLS, ``imaps_port``
speaks implicit TLS; both use a self-signed certificate (disable verification).

``TcpProxy(target_port)`` forwards ``127.0.0.1:<proxy.port>`` to the target and can cut a
connection after N bytes server->client, refuse new connections or drop all of them.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import getpass
import grp
import os
import pwd
import re
import selectors
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from imapclient import IMAPClient

# Overridable for unusual installs and for the self-test of the "not installed" path.
DOVECOT_BIN = os.environ.get("DOVECOT_BIN", "/usr/sbin/dovecot")
DOVEADM_BIN = "/usr/bin/doveadm"
LOCALHOST = "127.0.0.1"

_instances: set[Dovecot] = set()  # closed at interpreter exit


def dovecot_available() -> bool:
    """True when the Dovecot binaries needed by :class:`Dovecot` are installed."""
    return os.access(DOVECOT_BIN, os.X_OK) and os.access(DOVEADM_BIN, os.X_OK)


def insecure_ssl_context() -> ssl.SSLContext:
    """An SSL context that accepts the server's self-signed certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        return sock.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((LOCALHOST, port)) == 0


def _greets(port: int) -> bool:
    try:
        with socket.create_connection((LOCALHOST, port), timeout=1) as sock:
            return sock.recv(4).startswith(b"* OK")
    except OSError:
        return False


def _live_group_members(pgid: int) -> list[int]:
    """PIDs in process group ``pgid`` that are not zombies (Linux /proc)."""
    pids = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                pids.append(int(entry))
    return pids


try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before any fork
except (OSError, AttributeError):  # not Linux
    _prctl = None


def _set_parent_death_signal() -> None:
    """Runs in the child before exec: SIGKILL the master when the test process dies
    (Linux). Its children notice the dead master and exit at once; SIGTERM would leave
    the master lingering for seconds. Only armed from the main thread, because the
    signal fires when the spawning *thread* ends."""
    if _prctl is not None:
        _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _existing_user(*names: str) -> str:
    for name in names:
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError(f"none of the users {names} exists")


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int  # plain IMAP (STARTTLS available)
    imaps_port: int  # implicit TLS
    username: str
    password: str


class Dovecot:
    """A private Dovecot instance in a temp directory, listening on 127.0.0.1."""

    password = "secret"
    host = LOCALHOST

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="dovecot-test-"))
        self.dir.chmod(0o755)
        self.imap_port = free_port()
        self.imaps_port = free_port()
        while self.imaps_port == self.imap_port:
            self.imaps_port = free_port()
        self.conf_path = self.dir / "dovecot.conf"
        self.log_path = self.dir / "dovecot.log"
        self._stderr_path = self.dir / "stderr.log"
        self._proc: subprocess.Popen[bytes] | None = None
        _instances.add(self)
        self._make_certificate()
        self._write_config()

    # ----------------------------------------------------------------- setup

    def _make_certificate(self) -> None:
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650"),
                *("-subj", "/CN=localhost", "-keyout", str(self.dir / "key.pem")),
                *("-out", str(self.dir / "cert.pem")),
            ],
            check=True,
            capture_output=True,
        )

    def _write_config(self) -> None:
        me = getpass.getuser()
        group = grp.getgrgid(os.getgid()).gr_name
        mail_uid, mail_gid = os.getuid(), os.getgid()
        login_user = me
        if os.geteuid() == 0:
            # Dovecot refuses root for login processes ("must not be run as root") and for
            # mail access ("Mail access not allowed for root"), so those run as system
            # users; the master and internal services may stay root.
            login_user = _existing_user("dovenull", "nobody")
            nobody = pwd.getpwnam(_existing_user("nobody"))
            mail_uid, mail_gid = nobody.pw_uid, nobody.pw_gid
        home_root = self.dir / "home"
        home_root.mkdir()
        os.chown(home_root, mail_uid, mail_gid)
        d = self.dir
        self.conf_path.write_text(
            f"""\
base_dir = {d}/run
state_dir = {d}/state
instance_name = {d.name}
protocols = imap
listen = {LOCALHOST}
log_path = {self.log_path}
log_timestamp = "%Y-%m-%d %H:%M:%S "
auth_verbose = yes

default_internal_user = {me}
default_internal_group = {group}
default_login_user = {login_user}
first_valid_uid = 0
first_valid_gid = 0
mail_uid = {mail_uid}
mail_gid = {mail_gid}

ssl = yes
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0

mail_location = maildir:~/Maildir
mail_fsync = never

passdb {{
  driver = static
  args = password={self.password}
}}
userdb {{
  driver = static
  args = home={d}/home/%u
}}

service imap-login {{
  chroot =
  inet_listener imap {{
    address = {LOCALHOST}
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = {LOCALHOST}
    port = {self.imaps_port}
    ssl = yes
  }}
}}

# No chroot: a non-root Dovecot cannot chroot(), and tests need no jail.
# No growing delay for logins from an IP after a failed one (tests share 127.0.0.1).
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}

protocol imap {{
  mail_max_userip_connections = 1000
}}
""",
            encoding="utf-8",
        )

    # ------------------------------------------------------------- lifecycle

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        if self.running:
            return
        in_main_thread = threading.current_thread() is threading.main_thread()
        with self._stderr_path.open("ab") as stderr:
            self._proc = subprocess.Popen(
                [DOVECOT_BIN, "-F", "-c", str(self.conf_path)],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,  # own process group: stop() can sweep children
                preexec_fn=_set_parent_death_signal if in_main_thread else None,
            )
        log_start = len(self.log_text())
        deadline = time.monotonic() + timeout
        while not (_greets(self.imap_port) and _port_open(self.imaps_port)):
            failed = self._proc.poll() is not None or "Fatal:" in self.log_text()[log_start:]
            if failed or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Dovecot did not start:\n{self.log_text()[log_start:]}")
            time.sleep(0.02)

    def stop(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        # Signal the whole process group: with only the master signalled, Dovecot spends
        # a second waiting for its log process before exiting.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout / 2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        deadline = time.monotonic() + timeout / 2
        while members := _live_group_members(proc.pid):
            if time.monotonic() > deadline:
                for pid in members:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)
        deadline = time.monotonic() + timeout
        while _port_open(self.imap_port) or _port_open(self.imaps_port):
            if time.monotonic() > deadline:
                raise RuntimeError("Dovecot ports still open after stop")
            time.sleep(0.02)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the server and delete its temp directory."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        _instances.discard(self)

    def __enter__(self) -> Dovecot:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def log_text(self) -> str:
        """Dovecot's stderr followed by its log file."""
        paths = (self._stderr_path, self.log_path)
        return "".join(p.read_text(errors="replace") for p in paths if p.exists())

    # -------------------------------------------------------------- mailboxes

    def account(self, username: str | None = None) -> ImapAccount:
        """Credentials for ``username`` (default: a fresh one, i.e. an empty mailbox)."""
        return ImapAccount(
            host=self.host,
            port=self.imap_port,
            imaps_port=self.imaps_port,
            username=username or f"u{uuid.uuid4().hex[:12]}",
            password=self.password,
        )

    def home(self, user: str) -> Path:
        """The user's home directory; the maildir is ``home(user) / "Maildir"``."""
        return self.dir / "home" / user.lower()  # auth_username_format %Lu lowercases

    @contextlib.contextmanager
    def connect(self, user: str) -> Iterator[IMAPClient]:
        """A logged-in IMAPClient over the plain port; logs out afterwards."""
        client = IMAPClient(self.host, port=self.imap_port, ssl=False, timeout=30)
        try:
            client.login(user, self.password)
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def append(
        self,
        user: str,
        raw: bytes,
        internaldate: datetime,
        folder: str = "INBOX",
        flags: Iterable[str | bytes] = (),
    ) -> int:
        """Append ``raw`` with the given INTERNALDATE (must be aware); return its UID."""
        if internaldate.tzinfo is None:
            raise ValueError("internaldate must be timezone-aware")
        with self.connect(user) as client:
            response = client.append(folder, raw, tuple(flags), internaldate)
            match = re.search(rb"APPENDUID \d+ (\d+)", response or b"")
            if match:
                return int(match.group(1))
            client.select_folder(folder, readonly=True)
            return max(client.search("ALL"))

    def create_folder(self, user: str, name: str) -> None:
        with self.connect(user) as client:
            client.create_folder(name)

    def uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        with self.connect(user) as client:
            return client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"]

    def message_count(self, user: str, folder: str = "INBOX") -> int:
        with self.connect(user) as client:
            return client.folder_status(folder, [b"MESSAGES"])[b"MESSAGES"]

    def change_uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        """Give ``folder`` a new, larger UIDVALIDITY keeping its messages (and their UID
        numbers); return it.

        Uses ``doveadm mailbox update --uid-validity`` on the live server. Sessions that
        have the folder selected are disconnected by Dovecot ("IMAP session state is
        inconsistent, please relogin"); new sessions see the new value.
        """
        new = max(self.uidvalidity(user, folder) + 1, int(time.time()))
        result = subprocess.run(
            [
                *(DOVEADM_BIN, "-c", str(self.conf_path), "mailbox", "update"),
                *("--uid-validity", str(new), "-u", user, folder),
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"doveadm mailbox update failed: {result.stderr.strip()}")
        return new

    def delete_all(self, user: str, folder: str = "INBOX") -> None:
        with self.connect(user) as client:
            client.select_folder(folder)
            uids = client.search("ALL")
            if uids:
                client.delete_messages(uids)
                client.expunge()


@atexit.register
def _close_all() -> None:
    for server in list(_instances):
        with contextlib.suppress(Exception):
            server.close()


# ---------------------------------------------------------------------- TCP proxy


def _abort(sock: socket.socket, reset: bool) -> None:
    with contextlib.suppress(OSError):
        if reset:  # close with SO_LINGER 0 sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            sock.shutdown(socket.SHUT_RDWR)
    sock.close()


class _Connection:
    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.closing = False
        self.thread: threading.Thread | None = None


class TcpProxy:
    """Loopback TCP proxy ``127.0.0.1:<port>`` -> ``target_host:target_port``.

    One daemon thread accepts connections, one daemon thread per connection pumps both
    directions; all of them poll a stop flag at least every 0.1 s.
    """

    def __init__(self, target_port: int, target_host: str = LOCALHOST) -> None:
        self.target = (target_host, target_port)
        self.host = LOCALHOST
        self.accepted = 0  # connections accepted and forwarded so far
        self._lock = threading.Lock()
        self._connections: set[_Connection] = set()
        self._cut_remaining: int | None = None
        self._cut_reset = False
        self._refusing = False
        self._want_listen = True
        self._state = threading.Condition()  # guards the three fields below
        self._requested = 0  # generation of the last refuse() request
        self._applied = 0  # generation the accept thread has applied
        self._stopping = threading.Event()
        self._listener: socket.socket | None = self._listen(0)
        self.port: int = self._listener.getsockname()[1]
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"TcpProxy-{self.port}", daemon=True
        )
        self._accept_thread.start()

    # -------------------------------------------------------------- controls

    def cut_after(self, n_bytes: int | None, *, reset: bool = False) -> None:
        """After forwarding ``n_bytes`` more bytes server->client (on whichever connection
        carries them, current or next), abruptly close that connection's two sockets.
        One-shot; ``None`` cancels. ``reset=True`` sends RST instead of FIN."""
        with self._lock:
            self._cut_remaining = n_bytes
            self._cut_reset = reset

    def refuse(self, on: bool = True, *, listen: bool = True) -> None:
        """Refuse new connections: accept and immediately close them, or with
        ``listen=False`` stop listening so connecting fails with ECONNREFUSED.
        ``refuse(False)`` restores normal forwarding (same port)."""
        with self._state:
            self._refusing = on
            self._want_listen = listen or not on
            self._requested += 1
            wanted = self._requested
            if not self._state.wait_for(lambda: self._applied >= wanted, timeout=5):
                raise RuntimeError("TcpProxy accept thread did not react")

    def close_all(self) -> None:
        """Abruptly close all current connections (new ones are still accepted)."""
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            conn.closing = True
        for conn in connections:
            if conn.thread is not None:
                conn.thread.join(5)

    def stop(self) -> None:
        self._stopping.set()
        self._accept_thread.join(5)
        self.close_all()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -------------------------------------------------------------- internals

    def _listen(self, port: int) -> socket.socket:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, port))
        sock.listen(64)
        return sock

    def _sync_listener(self) -> None:
        with self._state:
            if self._want_listen and self._listener is None:
                with contextlib.suppress(OSError):  # port briefly busy: retry next round
                    self._listener = self._listen(self.port)
            elif not self._want_listen and self._listener is not None:
                self._listener.close()
                self._listener = None
            if (self._listener is not None) == self._want_listen:
                self._applied = self._requested
                self._state.notify_all()

    def _accept_loop(self) -> None:
        try:
            while not self._stopping.is_set():
                self._sync_listener()
                listener = self._listener
                if listener is None:
                    self._stopping.wait(0.05)
                    continue
                with selectors.DefaultSelector() as selector:
                    selector.register(listener, selectors.EVENT_READ)
                    if not selector.select(0.1):
                        continue
                try:
                    client, _ = listener.accept()
                except OSError:
                    continue
                if self._refusing:
                    _abort(client, reset=False)
                else:
                    self._start_connection(client)
        finally:
            if self._listener is not None:
                self._listener.close()
                self._listener = None

    def _start_connection(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            _abort(client, reset=False)
            return
        conn = _Connection(client, upstream)
        conn.thread = threading.Thread(target=self._pump, args=(conn,), daemon=True)
        with self._lock:
            self._connections.add(conn)
            self.accepted += 1
        conn.thread.start()

    def _pump(self, conn: _Connection) -> None:
        reset = False
        selector = selectors.DefaultSelector()  # not select(): fds may exceed FD_SETSIZE
        try:
            for sock in (conn.client, conn.upstream):
                sock.settimeout(0.1)
                selector.register(sock, selectors.EVENT_READ)
            while not conn.closing and not self._stopping.is_set():
                for key, _ in selector.select(0.1):
                    src = key.fileobj
                    dst = conn.upstream if src is conn.client else conn.client
                    data = src.recv(65536)
                    if not data:
                        return
                    cut = False
                    if src is conn.upstream:
                        with self._lock:
                            remaining = self._cut_remaining
                            if remaining is not None and len(data) >= remaining:
                                data, cut, reset = data[:remaining], True, self._cut_reset
                                self._cut_remaining = None
                            elif remaining is not None:
                                self._cut_remaining = remaining - len(data)
                    self._send(conn, dst, data)
                    if cut:
                        return
        except OSError:
            return
        finally:
            selector.close()
            _abort(conn.client, reset)
            _abort(conn.upstream, reset)
            with self._lock:
                self._connections.discard(conn)

    def _send(self, conn: _Connection, sock: socket.socket, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if conn.closing or self._stopping.is_set():
                raise OSError("proxy connection closing")
            try:
                view = view[sock.send(view) :]
            except TimeoutError:
                continue
