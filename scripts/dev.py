"""`make dev`: the Dagster UI on 127.0.0.1:3000, against a running simulator.

The terminal shows the two URLs and errors only; everything Dagster prints (daemon, webserver,
the runs it launches) goes to build/dev.log.
"""

from __future__ import annotations

import re
import sys

from local import LOG_DIR, REPO_ROOT, local_environment, run_logged, running_simulator, tail

LOG_PATH = LOG_DIR / "dev.log"
UI_PORT = 3000
SERVING = re.compile(r"Serving dagster-webserver on (?P<url>\S+)")
ERROR = re.compile(r" - (ERROR|CRITICAL) - |^Traceback |^\w+(Error|Exception): ")


def echo(line: str) -> str | None:
    """What the terminal shows for one line of `dagster dev`'s output (None: nothing)."""
    if match := SERVING.search(line):
        return f"Dagster UI ready:  {match['url']}   (Ctrl-C stops the UI and the simulator)"
    if ERROR.search(line):
        return line
    return None


def main() -> int:
    with running_simulator(port=8686) as base_url:
        print(f"X API simulator:   {base_url}", flush=True)
        print(f"Dagster UI:        http://127.0.0.1:{UI_PORT}  (starting; log: {LOG_PATH})", flush=True)
        command = [
            sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(UI_PORT), "-w", "workspace.yaml",
        ]  # fmt: skip
        try:
            returncode = run_logged(command, local_environment(base_url), LOG_PATH, echo)
        except KeyboardInterrupt:
            return 0
    if returncode != 0:
        print(f"\n--- last 40 lines of {LOG_PATH} ---\n{tail(LOG_PATH)}", file=sys.stderr)
        print(f"dagster dev exited with code {returncode}; full log: {LOG_PATH}", file=sys.stderr)
        return returncode
    return 0


if __name__ == "__main__":
    assert REPO_ROOT.is_dir()
    sys.exit(main())
