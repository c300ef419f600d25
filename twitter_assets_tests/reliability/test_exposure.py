"""Exposure: what `make dev` starts listens on 127.0.0.1 only, and the simulator refuses any other
address unless told explicitly (`--allow-remote` / `allow_remote=True`)."""

from __future__ import annotations

import contextlib
import socket
import sys
from pathlib import Path

import pytest

from twitter_assets.simulator import SimulatorServer
from twitter_assets.simulator.__main__ import main

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of LISTEN sockets on `port`, read from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:
                if len(address) == 8:
                    address = socket.inet_ntoa(bytes.fromhex(address)[::-1])
                found.add(address)
    return found


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_the_simulator_refuses_a_non_loopback_address(host, capsys):
    with pytest.raises(ValueError, match="refusing to listen"):
        SimulatorServer(object(), bearer_tokens={"t"}, host=host)  # type: ignore[arg-type]
    with pytest.raises(SystemExit) as exit_:
        main(["--host", host, "--token", "t"])
    assert exit_.value.code == 2 and "--allow-remote" in capsys.readouterr().err


def test_allow_remote_binds_only_when_asked(synthetic_corpus):
    with SimulatorServer(synthetic_corpus, bearer_tokens={"t"}, host="0.0.0.0", allow_remote=True) as server:
        assert _listening_addresses(server.port) == {"0.0.0.0"}


def test_make_dev_listens_on_loopback_only(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    sys.modules.pop("dev", None)
    sys.modules.pop("local", None)
    import dev  # scripts/dev.py, what `make dev` runs
    import local

    with local.running_simulator() as base_url:  # the real simulator process make dev starts
        port = int(base_url.rsplit(":", 1)[1])
        assert _listening_addresses(port) == {"127.0.0.1"}

    commands = []
    # the UI's command, without taking port 8686 (another checkout's `make dev` may hold it)
    monkeypatch.setattr(dev, "running_simulator", lambda port: contextlib.nullcontext("http://127.0.0.1:1"))
    monkeypatch.setattr(dev, "run_logged", lambda command, *a, **k: commands.append(command) or 0)
    assert dev.main() == 0
    (command,) = commands
    assert command[command.index("-h") + 1] == "127.0.0.1"
