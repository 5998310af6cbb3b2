"""A free TCP port, for a webhook the tests listen on."""

import socket


def free_port() -> int:
    """A port nothing listens on now on 127.0.0.1 (another process could still take it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
