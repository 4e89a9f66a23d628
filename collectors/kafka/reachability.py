"""Why a cluster cannot be reached: a host that does not resolve, or a port that refuses.

librdkafka answers both with the same "Timed out" once its request timeout passes. When
a cycle cannot reach the cluster at all, ``diagnose`` looks at each bootstrap address
with the plain socket API (a DNS lookup, then a TCP connect with a short timeout) and
says which of the two it is, so the error names what to fix. It never sends Kafka
bytes and never prints anything but host and port.
"""

from __future__ import annotations

import socket

CONNECT_TIMEOUT_S = 1.0


def diagnose(bootstrap_servers: str, timeout_s: float = CONNECT_TIMEOUT_S) -> str | None:
    """A short text for the first bootstrap address that fails, None when one accepts
    a connection (then the problem is elsewhere: TLS, SASL, a slow broker).

    - ``bootstrap host 'kafka.example' does not resolve (DNS: …)``
    - ``connection to 127.0.0.1:9 refused (nothing listens there)``
    - ``connection to 10.0.0.1:9092 timed out after 1 s``
    """
    problems = []
    for server in bootstrap_servers.split(","):
        host, _, port_text = server.strip().rpartition(":")
        host = host.strip("[]")
        try:
            port = int(port_text)
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            problems.append(f"bootstrap host {host!r} does not resolve (DNS: {error.strerror})")
            continue
        except ValueError:
            problems.append(f"bootstrap address {server.strip()!r} has no valid port")
            continue
        family, kind, proto, _, address = infos[0]
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(timeout_s)
                sock.connect(address)
            return None
        except ConnectionRefusedError:
            problems.append(f"connection to {host}:{port} refused (nothing listens there)")
        except OSError as error:
            if isinstance(error, TimeoutError):
                problems.append(f"connection to {host}:{port} timed out after {timeout_s:g} s")
            else:
                problems.append(f"connection to {host}:{port} failed: {error.strerror or error}")
    return "; ".join(problems) or None
