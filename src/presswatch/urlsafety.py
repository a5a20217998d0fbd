"""Which URLs presswatch may fetch: http(s) to public addresses only.

A host that is, or resolves to, a loopback, private, link-local (169.254.169.254 included),
multicast, reserved, unspecified or otherwise non-public address is refused before any
connection, unless listed in ``FetchSettings.allow_hosts`` (a host name, an address or a network
such as ``10.0.0.0/8``). The address is checked when the name is resolved here; the HTTP client
resolves it again to connect (DNS rebinding is not prevented).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

from presswatch.errors import FetchError, TransientFetchError


class UnsafeURLError(FetchError):
    """The URL's scheme or host is refused (private, loopback, link-local... addresses)."""


def check_url(url: str, allow_hosts: Sequence[str] = ()) -> None:
    """Refuse (``UnsafeURLError``) a URL that is not http(s) or whose host is not public."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURLError(f"refused: malformed URL ({exc})", url=url) from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeURLError(f"refused: scheme {parts.scheme or '(none)'!r} is not http or https", url=url)
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURLError("refused: no host in URL", url=url)
    if parts.username or parts.password:
        raise UnsafeURLError("refused: credentials in URL", url=url)
    addresses = _addresses(host, port or (443 if parts.scheme == "https" else 80), url)
    if _allowed(host, addresses, allow_hosts):
        return
    for address in addresses:
        kind = address_kind(address)
        if kind:
            shown = host if host == str(address) else f"{host} ({address})"
            article = "an" if kind[0] in "aeiou" else "a"
            raise UnsafeURLError(f"refused: {shown} is {article} {kind} address", url=url)


def address_kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address is not public (``None`` if it is)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind in ("loopback", "link_local", "unspecified", "multicast", "reserved", "private"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "non-public"


def _addresses(host: str, port: int, url: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        error = TransientFetchError if exc.errno == socket.EAI_AGAIN else FetchError
        raise error(f"cannot resolve {host}: {exc.strerror}", url=url) from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def _allowed(host: str, addresses: Sequence[ipaddress.IPv4Address | ipaddress.IPv6Address],
             allow_hosts: Sequence[str]) -> bool:
    for entry in allow_hosts:
        if entry.lower().rstrip(".") == host.lower():
            return True
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            continue
        if addresses and all(a in network for a in addresses):
            return True
    return False
