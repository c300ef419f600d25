"""Asset checks, one module per layer; `partitioned.py` reports a verdict per partition."""
