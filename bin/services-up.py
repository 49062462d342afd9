"""Exit 0 when PostgreSQL and Redis answer on 127.0.0.1, else 1. Used by `make test`."""

from __future__ import annotations

import socket
import sys


def reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


sys.exit(0 if reachable(5432) and reachable(6379) else 1)
