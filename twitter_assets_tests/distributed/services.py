"""Throw-away PostgreSQL, Redis and S3 (moto) servers on 127.0.0.1, each on a free port with a
directory of its own, for the distributed tests and for a shell.

From Python (pytest fixtures use exactly this)::

    with Services(["postgres", "redis", "s3"]) as services:
        services.env  # DAGSTER_PG_URL, TWITTER_CELERY_BROKER, AWS_ENDPOINT_URL, ...

From a shell (the servers live as long as this process; SIGTERM/SIGINT stops them all)::

    python -m twitter_assets_tests.distributed.services --env-file /tmp/services.env &
    while [ ! -s /tmp/services.env ]; do sleep 0.2; done; . /tmp/services.env
    ...; kill %1

Each server is started in the foreground of a child process (never daemonized), waited for until it
answers, and stopped with its own clean-shutdown signal, then SIGKILL if it does not exit. PostgreSQL
refuses to run as root: as root the data directory is given to `nobody` and the server runs as it.
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK = "127.0.0.1"
S3_BUCKET = "twitter-lake"
S3_ACCESS_KEY = "distributed-test"  # accepted by moto only; never a real credential
S3_SECRET_KEY = "distributed-test-secret"
S3_REGION = "us-east-1"


class ServiceError(RuntimeError):
    """A server did not start, or did not answer in time."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def _wait(what: str, ready, process: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceError(f"{what} exited with {process.returncode}: {_tail(log)}")
        try:
            if ready():
                return
        except Exception:  # noqa: BLE001 - not up yet, whatever the client says
            pass
        time.sleep(0.2)
    raise ServiceError(f"{what} did not answer within {timeout:.0f} s: {_tail(log)}")


def _tail(log: Path, size: int = 2000) -> str:
    try:
        return log.read_text(errors="replace")[-size:]
    except OSError:
        return "(no log)"


@dataclass
class Server:
    """One running server: its process, port, directory and the environment it offers."""

    name: str
    process: subprocess.Popen
    port: int
    directory: Path
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    stop_signal: int = signal.SIGTERM

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 20.0) -> None:
        if self.process.poll() is None:
            try:
                self.process.send_signal(self.stop_signal)
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            except ProcessLookupError:
                pass


# ---- PostgreSQL -----------------------------------------------------------------------------------
def postgres_bindir() -> Path:
    """Debian's newest /usr/lib/postgresql/<v>/bin, else wherever `initdb` is on PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    raise ServiceError("PostgreSQL server binaries not found: apt-get install -y postgresql")


def start_postgres(directory: Path) -> Server:
    bindir = postgres_bindir()
    data, log = directory / "data", directory / "postgres.log"
    run_as: str | None = None
    if os.geteuid() == 0:  # postgres refuses root: hand the directory to an unprivileged user
        run_as = "nobody"
        user = pwd.getpwnam(run_as)
        os.chmod(directory, 0o755)
        os.chown(directory, user.pw_uid, user.pw_gid)
    kwargs = {"user": run_as} if run_as else {}
    init = subprocess.run(
        [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        capture_output=True,
        text=True,
        cwd=directory,
        **kwargs,
    )
    if init.returncode:
        raise ServiceError(f"initdb failed: {init.stderr[-2000:]}")
    port = free_port()
    settings = {
        "listen_addresses": LOOPBACK,
        "port": str(port),
        "unix_socket_directories": str(directory),
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
        "shared_buffers": "64MB",
    }
    command = [str(bindir / "postgres"), "-D", str(data)]
    for key, value in settings.items():
        command += ["-c", f"{key}={value}"]
    with open(log, "ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=directory, **kwargs)
    import psycopg2

    def ready() -> bool:
        psycopg2.connect(host=LOOPBACK, port=port, user="postgres", dbname="postgres", connect_timeout=2).close()
        return True

    # SIGINT is PostgreSQL's "fast shutdown": roll back, disconnect clients, stop cleanly.
    server = Server("postgres", process, port, directory, log, stop_signal=signal.SIGINT)
    try:
        _wait("PostgreSQL", ready, process, log)
        connection = psycopg2.connect(host=LOOPBACK, port=port, user="postgres", dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("CREATE DATABASE dagster")
        connection.close()
    except BaseException:
        server.stop()
        raise
    url = f"postgresql+psycopg2://postgres@{LOOPBACK}:{port}/dagster"
    server.env = {
        "DAGSTER_PG_URL": url,
        "DAGSTER_PG_HOST": LOOPBACK,
        "DAGSTER_PG_PORT": str(port),
        "DAGSTER_PG_USERNAME": "postgres",
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_DB": "dagster",
    }
    return server


# ---- Redis ----------------------------------------------------------------------------------------
def start_redis(directory: Path) -> Server:
    binary = shutil.which("redis-server")
    if not binary:
        raise ServiceError("redis-server not found: apt-get install -y redis-server")
    port, log = free_port(), directory / "redis.log"
    command = [binary, "--port", str(port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no",
               "--daemonize", "no", "--dir", str(directory)]  # fmt: skip
    with open(log, "ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=directory)

    def ready() -> bool:
        with socket.create_connection((LOOPBACK, port), timeout=2) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")

    server = Server("redis", process, port, directory, log)
    try:
        _wait("Redis", ready, process, log)
    except BaseException:
        server.stop()
        raise
    server.env = {
        "TWITTER_CELERY_BROKER": f"redis://{LOOPBACK}:{port}/0",
        "TWITTER_CELERY_BACKEND": f"redis://{LOOPBACK}:{port}/1",
    }
    return server


# ---- S3 (moto) ------------------------------------------------------------------------------------
def start_s3(directory: Path, bucket: str = S3_BUCKET) -> Server:
    port, log = free_port(), directory / "moto.log"
    command = [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]
    with open(log, "ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=directory)
    endpoint = f"http://{LOOPBACK}:{port}"
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
        "AWS_DEFAULT_REGION": S3_REGION,
        "TWITTER_S3_BUCKET": bucket,
    }

    def ready() -> bool:
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=S3_ACCESS_KEY,
            aws_secret_access_key=S3_SECRET_KEY,
            region_name=S3_REGION,
        )
        client.create_bucket(Bucket=bucket)
        return True

    server = Server("s3", process, port, directory, log)
    try:
        _wait("moto S3 server", ready, process, log)
    except BaseException:
        server.stop()
        raise
    server.env = env
    return server


STARTERS = {"postgres": start_postgres, "redis": start_redis, "s3": start_s3}


class Services:
    """Start the named servers (in parallel) in a fresh temporary directory; stop them all on exit."""

    def __init__(self, names: Iterable[str] = ("postgres", "redis", "s3"), root: Path | None = None):
        self.names = list(names)
        unknown = set(self.names) - set(STARTERS)
        if unknown:
            raise ValueError(f"unknown services {sorted(unknown)}; known: {sorted(STARTERS)}")
        self._own_root = root is None
        # Not under pytest's tmp_path: that is 0700 root's, and PostgreSQL runs as `nobody`.
        self.root = Path(tempfile.mkdtemp(prefix="twitter-services-")) if root is None else Path(root)
        os.chmod(self.root, 0o755)  # traversable by the unprivileged PostgreSQL user
        self.servers: dict[str, Server] = {}

    @property
    def env(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for server in self.servers.values():
            merged.update(server.env)
        return merged

    def start(self) -> Services:
        errors: list[BaseException] = []

        def launch(name: str) -> None:
            directory = self.root / name
            directory.mkdir(parents=True, exist_ok=True)
            try:
                self.servers[name] = STARTERS[name](directory)
            except BaseException as exc:  # noqa: BLE001 - re-raised below, after the others stop
                errors.append(exc)

        threads = [threading.Thread(target=launch, args=(name,)) for name in self.names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            self.stop()
            raise errors[0]
        return self

    def stop(self) -> None:
        for server in reversed(list(self.servers.values())):
            server.stop()
        self.servers.clear()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Services:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m twitter_assets_tests.distributed.services", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("services", nargs="*", help=f"among {', '.join(sorted(STARTERS))} (default: all)")
    parser.add_argument("--env-file", help="write `export NAME=value` lines here once every server answers")
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with Services(args.services or sorted(STARTERS)) as services:
        lines = "".join(f"export {key}='{value}'\n" for key, value in sorted(services.env.items()))
        if args.env_file:
            temporary = f"{args.env_file}.tmp"
            Path(temporary).write_text(lines)
            os.replace(temporary, args.env_file)
        print(lines, end="", flush=True)
        for server in services.servers.values():
            print(f"# {server.name}: pid {server.pid}, port {server.port}, dir {server.directory}", flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
