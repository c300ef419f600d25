"""The performance benchmarks of the pipeline (`make bench`, `python -m benchmarks`).

Every measured step runs in a child process of its own (`benchmarks.child`), so its peak RSS is
that step's alone (`os.wait4`'s rusage), and every figure is set beside baselines measured in the
same run, on the same generated data. See `benchmarks/run.py` for what is measured.
"""
