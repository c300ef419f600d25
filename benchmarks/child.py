"""`python -m benchmarks.child <step> <kwargs-json> <result-file>`: run one benchmark step."""

import json
import sys
import time

from benchmarks import steps


def main() -> None:
    name, kwargs, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
    function = getattr(steps, name)
    started = time.perf_counter()
    result = function(**kwargs) or {}
    result.setdefault("step_seconds", time.perf_counter() - started)
    with open(out, "w", encoding="utf-8") as stream:
        json.dump(result, stream, default=str)


if __name__ == "__main__":
    main()
