"""`python -m twitter_assets.simulator`: run the simulator until SIGINT/SIGTERM.

Prints exactly one line on stdout once listening (`X API simulator listening on http://HOST:PORT`),
so a parent process can read the URL; everything else goes to stderr.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import datetime, timezone

from twitter_assets.simulator.app import SimulatorServer
from twitter_assets.simulator.faults import KINDS
from twitter_assets.simulator.recorded import FileCorpus
from twitter_assets.simulator.records import Corpus
from twitter_assets.simulator.synthetic import SyntheticCorpus

TOKEN_ENV = "TWITTER_BEARER_TOKEN"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m twitter_assets.simulator", description="A local X API v2 simulator (loopback only)."
    )
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (the simulator serves a made-up token and fault injection)",
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument(
        "--token", default=os.environ.get(TOKEN_ENV), help=f"accepted bearer token (default ${TOKEN_ENV})"
    )
    parser.add_argument("--seed", type=int, default=7, help="synthetic corpus seed")
    parser.add_argument("--daily-volume", type=int, default=250, help="synthetic tweets per day, on average")
    parser.add_argument("--account", default="AluraOnline", help="the brand account's handle")
    parser.add_argument("--pages", nargs="+", metavar="FILE", help="serve recorded search pages (NDJSON) instead")
    parser.add_argument("--recorded-query", default="AluraOnline", help="the query the recorded pages answer")
    parser.add_argument(
        "--shift-into-window", action="store_true", help="move the recording so its last day is yesterday"
    )
    parser.add_argument("--rate-limit", type=int, default=450, help="search requests per window and token")
    parser.add_argument("--rate-window", type=float, default=900, help="rate-limit window in seconds")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="probability that a request meets a fault")
    parser.add_argument("--fault-kinds", default="503,reset,truncate", help=f"comma-separated, among {','.join(KINDS)}")
    return parser


def _corpus(args: argparse.Namespace) -> Corpus:
    if not args.pages:
        return SyntheticCorpus(account_username=args.account, seed=args.seed, daily_volume=args.daily_volume)
    shift = (
        FileCorpus.days_to_shift_into_window(args.pages, datetime.now(timezone.utc)) if args.shift_into_window else 0
    )
    return FileCorpus.from_ndjson(
        args.pages, recorded_query=args.recorded_query, account_username=args.account, shift_days=shift
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.token:
        parser.error(f"no token: pass --token or set {TOKEN_ENV}")
    if args.shift_into_window and not args.pages:
        parser.error("--shift-into-window needs --pages")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        server = SimulatorServer(
            _corpus(args),
            host=args.host,
            port=args.port,
            bearer_tokens={args.token},
            rate_limit=args.rate_limit,
            rate_window_seconds=args.rate_window,
            allow_remote=args.allow_remote,
        )
        if args.fault_rate:
            server.faults.random(rate=args.fault_rate, kinds=args.fault_kinds.split(","), seed=args.seed)
        server.start()
    except (ValueError, OSError) as exc:
        parser.error(str(exc))
    try:
        print(f"X API simulator listening on {server.base_url}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    print("X API simulator stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
