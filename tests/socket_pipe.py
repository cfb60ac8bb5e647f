"""Copying bytes between two sockets until either side closes: the tests' TCP proxies share it."""
from __future__ import annotations

import socket


def pipe(source: socket.socket, sink: socket.socket) -> None:
    """Copy `source` into `sink` until either closes, then shut both down."""
    try:
        source.settimeout(None)
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
