"""Test-only crash points for the SIGKILL tests (twitter_assets_tests/reliability/test_crash.py).

Loaded by every Python process of a CLI run (the run, the forkserver, each step) because the test
puts this directory first on PYTHONPATH. With RELIAB_PAUSE_AT set, the Nth `os.replace` whose target
contains that text (N = RELIAB_PAUSE_SKIP + 1) first touches RELIAB_PAUSE_MARKER and then sleeps,
so the test can SIGKILL the process group at exactly that point: between publishing two silver
files, before a raw manifest, and so on. Why a hook: the lake's only commit points are these
renames, and a day big enough to be caught by timing alone would make the suite minutes slower.
"""

import os
import time

_AT = os.environ.get("RELIAB_PAUSE_AT")
if _AT:
    _real_replace = os.replace
    _state = {"seen": 0}

    def _pausing_replace(src, dst, *args, **kwargs):
        if _AT in os.fspath(dst):
            _state["seen"] += 1
            if _state["seen"] > int(os.environ.get("RELIAB_PAUSE_SKIP", "0")):
                with open(os.environ["RELIAB_PAUSE_MARKER"], "a") as marker:
                    marker.write(f"{os.getpid()} {dst}\n")
                time.sleep(600)
        return _real_replace(src, dst, *args, **kwargs)

    os.replace = _pausing_replace
