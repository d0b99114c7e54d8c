"""The uvicorn settings every ``liandong serve`` process runs with, in one place, so the
benchmarks' bare comparison app (P6, ``bench.floor_app``) runs with exactly the same."""

from __future__ import annotations

from typing import Any

import uvicorn


def server_config(app: Any, *, host: str, port: int) -> uvicorn.Config:
    """uvicorn's configuration of a service process serving ``app`` on ``host:port``."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=20,
    )
