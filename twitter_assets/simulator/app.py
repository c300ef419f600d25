"""SimulatorServer: the X API simulator over real HTTP/1.1 on a loopback address.

Stdlib only (`ThreadingHTTPServer`, daemon threads), keep-alive with exact Content-Length so a
`requests.Session` reuses its connection. Transport faults are played here: "reset" (RST, no
answer), "truncate" (half the body under the full Content-Length) and "slow" (a late answer).

Admin endpoints for out-of-process control live under `/_simulator/`, which the API never uses:
`POST /_simulator/faults` (JSON: `kind` plus FaultPlan.push's keywords), `DELETE /_simulator/faults`,
`GET /_simulator/requests` and `DELETE /_simulator/requests`. They need no token and answer only
loopback clients. The server refuses to listen on anything but a loopback address: it serves a
made-up token and fault injection, nothing that should be reachable from another machine.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import socket
import struct
import threading
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from twitter_assets.simulator.api import SEARCH, SEARCH_ALL, STATUS_FAULTS, USERS, Reply, XApi
from twitter_assets.simulator.contract import PAGE_NOT_FOUND
from twitter_assets.simulator.faults import FaultPlan
from twitter_assets.simulator.ratelimit import RateLimiter
from twitter_assets.simulator.records import Corpus

log = logging.getLogger(__name__)

ADMIN_PREFIX = "/_simulator/"
JSON_TYPE = "application/json; charset=utf-8"
USERS_RATE_LIMIT = 300  # the real app-auth limit of users/by/username per 15 minutes
FULL_ARCHIVE_RATE_LIMIT = 300  # the real app-level limit of search/all per 15 minutes (plus 1 request/s)


@dataclass(frozen=True)
class RequestRecord:
    """One API request as the server saw it; status 0 means no answer was sent (a "reset" fault)."""

    method: str
    path: str
    params: dict[str, str]
    status: int
    token_ok: bool


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class SimulatorServer:
    """The simulator in a background thread; `with SimulatorServer(...) as server:` starts and stops it."""

    def __init__(
        self,
        corpus: Corpus,
        *,
        bearer_tokens: Collection[str],
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: int = 450,
        rate_window_seconds: float = 900,
        usage_cap: int | None = None,
        clock: Callable[[], datetime] | None = None,
        users_rate_limit: int = USERS_RATE_LIMIT,
        full_archive_rate_limit: int = FULL_ARCHIVE_RATE_LIMIT,
        allow_remote: bool = False,
    ):
        if not is_loopback(host) and not allow_remote:
            raise ValueError(
                f"refusing to listen on {host!r}: the simulator only serves loopback addresses "
                "(allow_remote=True / --allow-remote if you really mean it)"
            )
        if isinstance(bearer_tokens, str) or not bearer_tokens or not all(bearer_tokens):
            raise ValueError("bearer_tokens must be a non-empty collection of non-empty token strings")
        self.corpus = corpus
        self.host = host
        self.clock = clock or _utc_now
        self.faults = FaultPlan()
        limiter = RateLimiter(
            {SEARCH: rate_limit, SEARCH_ALL: full_archive_rate_limit, USERS: users_rate_limit},
            rate_window_seconds,
            lambda: self.clock().timestamp(),
        )
        self.api = XApi(corpus, bearer_tokens, limiter, usage_cap, self.clock)
        self._requested_port = port
        self._requests: list[RequestRecord] = []
        self._requests_lock = threading.Lock()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> SimulatorServer:
        if self._httpd is not None:
            raise RuntimeError("the simulator is already running")
        self._httpd = _HTTPServer((self.host, self._requested_port), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="x-api-simulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open connections (idle keep-alive ones included)."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        httpd.drop_connections()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the simulator is not running")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # ---- what happened -----------------------------------------------------------------------
    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of the API requests served so far (admin requests are not recorded)."""
        with self._requests_lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._requests_lock:
            self._requests.clear()

    def record(self, record: RequestRecord) -> None:
        with self._requests_lock:
            self._requests.append(record)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], simulator: SimulatorServer):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.simulator = simulator
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket, alive: bool) -> None:
        with self._connections_lock:
            (self._connections.add if alive else self._connections.discard)(connection)

    def drop_connections(self) -> None:
        """Wake every handler blocked on a keep-alive connection so its thread ends."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up (and our own resets) are normal here; anything else is logged."""
        log.debug("connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    # Protocol-level errors (unsupported method, malformed request line) are JSON too.
    error_content_type = JSON_TYPE
    error_message_format = '{"title":"%(message)s","detail":"%(explain)s","type":"about:blank","status":%(code)d}'
    server: _HTTPServer

    def version_string(self) -> str:
        return "x-api-simulator"

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, alive=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, alive=False)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    # ---- dispatch ----------------------------------------------------------------------------
    def _dispatch(self) -> None:
        body = self._read_body()
        url = urlsplit(self.path)
        if url.path.startswith(ADMIN_PREFIX):
            self._admin(url.path, body)
            return
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        simulator = self.server.simulator
        fault = simulator.faults.take(url.path)
        authorization = self.headers.get("Authorization")
        if fault is not None and fault.kind == "reset":
            simulator.record(RequestRecord(self.command, url.path, params, 0, simulator.api.token_ok(authorization)))
            self._reset()
            return
        if fault is not None and fault.kind == "slow" and self.server.stopping.wait(fault.seconds):
            self.close_connection = True
            return
        reply = simulator.api.handle(
            self.command,
            url.path,
            params,
            authorization,
            fault=fault.kind if fault is not None and fault.kind in STATUS_FAULTS else None,
            reset_after=fault.reset_after if fault is not None else 1.0,
        )
        simulator.record(RequestRecord(self.command, url.path, params, reply.status, reply.token_ok))
        self._send(reply, truncate=fault is not None and fault.kind == "truncate")

    def _read_body(self) -> bytes:
        """Consume any request body, so the next request on a kept-alive connection parses."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, reply: Reply, truncate: bool = False) -> None:
        payload = reply.payload
        self.send_response(reply.status)
        self.send_header("Content-Type", JSON_TYPE)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if truncate:
            self.wfile.write(payload[: len(payload) // 2])
            self.close_connection = True
        else:
            self.wfile.write(payload)

    def _reset(self) -> None:
        """Abort the connection: SO_LINGER 0 makes close() send RST instead of FIN."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    # ---- admin -------------------------------------------------------------------------------
    def _admin(self, path: str, body: bytes) -> None:
        if not is_loopback(self.client_address[0]):
            self._send(Reply(403, {"error": "admin endpoints answer loopback clients only"}))
            return
        simulator = self.server.simulator
        route = (self.command, path.rstrip("/"))
        if route == ("POST", "/_simulator/faults"):
            try:
                spec = json.loads(body or b"{}")
                simulator.faults.push(**spec)
            except (ValueError, TypeError) as exc:
                self._send(Reply(400, {"error": f"bad fault: {exc}"}))
                return
            self._send(Reply(200, {"pending": [asdict(fault) for fault in simulator.faults.pending]}))
        elif route == ("DELETE", "/_simulator/faults"):
            simulator.faults.clear()
            self._send(Reply(200, {"pending": []}))
        elif route == ("GET", "/_simulator/requests"):
            self._send(Reply(200, [asdict(record) for record in simulator.requests]))
        elif route == ("DELETE", "/_simulator/requests"):
            simulator.clear_requests()
            self._send(Reply(200, []))
        else:
            self._send(Reply(404, PAGE_NOT_FOUND))
