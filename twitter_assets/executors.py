"""Which executor runs the steps, chosen by the environment (so the same code location serves both).

Unset (or `TWITTER_EXECUTOR=in_process`): every step in the run's own process. The pools serialise
the steps of a run anyway (one API fetch, one lake writer at a time) and the work happens in DuckDB's
threads, so a process per step would only add imports: one partition through every asset and check
took 28 s in-process against 63 s with a process per step on the same (busy) machine.
`TWITTER_EXECUTOR=multiprocess`: Dagster's multiprocess executor, each step a process forked from a
server that has already imported the code location (isolation at a lower start cost).
`TWITTER_EXECUTOR=celery`: `dagster-celery`'s executor,
every step a Celery task picked up by a worker (`dagster-celery worker start`), possibly on another
machine. `TWITTER_EXECUTOR=k8s`: `dagster-k8s`'s `k8s_job_executor`, every step a Kubernetes Job.
The run process only orchestrates: it claims the step's pool slot (`x_api`, `lake_duckdb`)
in the instance before submitting the task, so pool limits hold across all workers together.

Celery settings, all read where the run starts (values given as `{"env": ...}` so a password in the
broker URL is never stored in the run's config):

| variable | meaning | default |
|---|---|---|
| `TWITTER_CELERY_BROKER` | broker URL, e.g. `redis://host:6379/0` | required |
| `TWITTER_CELERY_BACKEND` | result backend URL | `rpc://` |
| `TWITTER_CELERY_CONFIG` | the workers' `-y` YAML; its `execution.config.config_source` is used, so | none |
|  | both sides agree on acknowledgement and redelivery | |

The workers must import the same code (`-A dagster_celery.app`, the package on their path) and see
the same environment (instance, lake, API token).
"""

from __future__ import annotations

import os
from typing import Any

import yaml
from dagster import ExecutorDefinition, in_process_executor, multiprocess_executor

EXECUTOR_ENV = "TWITTER_EXECUTOR"
BROKER_ENV = "TWITTER_CELERY_BROKER"
BACKEND_ENV = "TWITTER_CELERY_BACKEND"
CELERY_CONFIG_ENV = "TWITTER_CELERY_CONFIG"

KNOWN_EXECUTORS = ("in_process", "multiprocess", "celery", "k8s")

# What every step needs, loaded once in the fork server so each forked step starts with it: the code
# location; the libraries it imports only where they are used (so that importing it stays fast for
# every Dagster process); and the instance's SQLite storage and compute-log modules, which each step
# otherwise imports again when it opens the instance (~0.5-1 s per step). A module that cannot be
# imported (another instance storage, say) is skipped by multiprocessing.
FORKSERVER_PRELOAD = [
    "twitter_assets.definitions",
    "duckdb",
    "pyarrow.parquet",
    "pyarrow.compute",
    "pandas",
    "fsspec",
    "dagster._core.storage.sqlite_storage",
    "dagster._core.storage.local_compute_log_manager",
    "upath",
    "dotenv",
]

forkserver_multiprocess_executor = multiprocess_executor.configured(
    {"start_method": {"forkserver": {"preload_modules": FORKSERVER_PRELOAD}}},
    name="forkserver_multiprocess",
)


def executor_from_env(environ: dict[str, str] | None = None) -> ExecutorDefinition:
    """The executor named by TWITTER_EXECUTOR (default: in_process)."""
    env = os.environ if environ is None else environ
    name = (env.get(EXECUTOR_ENV) or "in_process").strip().lower()
    if name == "multiprocess":
        return forkserver_multiprocess_executor
    if name == "in_process":
        return in_process_executor
    if name == "k8s":  # each step a Kubernetes Job (deploy/helm/values.yaml); needs dagster-k8s
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    if name != "celery":
        raise ValueError(f"{EXECUTOR_ENV}={name!r}: expected one of {', '.join(KNOWN_EXECUTORS)}")
    if not env.get(BROKER_ENV):
        raise ValueError(f"{EXECUTOR_ENV}=celery needs {BROKER_ENV} (e.g. redis://127.0.0.1:6379/0)")
    try:
        from dagster_celery import celery_executor
    except ImportError as exc:  # the `distributed` extra is not installed
        raise ValueError(f"{EXECUTOR_ENV}=celery needs dagster-celery: pip install -e '.[distributed]'") from exc

    config: dict[str, Any] = {"broker": {"env": BROKER_ENV}}
    if env.get(BACKEND_ENV):
        config["backend"] = {"env": BACKEND_ENV}
    if env.get(CELERY_CONFIG_ENV):
        config_source = celery_config_source(env[CELERY_CONFIG_ENV])
        if config_source:
            config["config_source"] = config_source
    return celery_executor.configured(config, name="celery")


def celery_config_source(path: str) -> dict[str, Any]:
    """The `config_source` block of a `dagster-celery worker start -y` file (empty if it has none)."""
    with open(path, encoding="utf-8") as stream:
        parsed = yaml.safe_load(stream) or {}
    execution = parsed.get("execution") or {}
    block = execution.get("config") or execution.get("celery") or {}
    return dict(block.get("config_source") or {})
