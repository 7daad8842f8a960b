"""The portal as `make bench` serves it: `uvicorn bench.server:app`, i.e. backend.main's app plus the baseline
endpoint (bench/baseline.py) that the heartbeat hot path is measured against."""

from backend import main
from bench.baseline import router

main.portal.include_router(router)
app = main.app
