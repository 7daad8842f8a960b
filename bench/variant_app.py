"""ASGI entry point for a bench variant: `BENCH_APP=bench.variant_app:app BENCH_VARIANT=fastlane-fastwriter`."""

import os

from backend.app import create_app
from bench.variants import apply

app = apply(os.environ.get("BENCH_VARIANT", "asis"), create_app())
