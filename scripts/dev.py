"""`make dev`: the Dagster UI on 127.0.0.1:3000, against a running simulator."""

from __future__ import annotations

import subprocess
import sys

from local import REPO_ROOT, local_environment, running_simulator


def main() -> int:
    with running_simulator(port=8686) as base_url:
        print(f"simulator: {base_url}; Dagster UI: http://127.0.0.1:3000", flush=True)
        command = [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", "3000", "-w", "workspace.yaml"]
        try:
            return subprocess.call(command, cwd=REPO_ROOT, env=local_environment(base_url))
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
