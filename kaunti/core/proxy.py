"""The client's own address when Kaunti is served behind a reverse proxy (nginx).

Behind nginx every request reaches gunicorn from nginx: `REMOTE_ADDR` is nginx's address
(127.0.0.1, or empty on a unix socket), so every limit that counts by address (staff
sign-in lockouts, one-time-code sends, land balance look-ups) would count every citizen
as one, and `MPESA_ALLOWED_IPS` would see only nginx. nginx passes the address it saw in
a header (`X-Real-IP`, set by deploy/nginx/kaunti.conf, never appended to): this WSGI
wrapper, outermost, puts it in `REMOTE_ADDR` for the whole application, Safaricom's
callback lane included, but only when the request came from a trusted proxy
(`FORWARDED_ALLOW_IPS`, the list gunicorn trusts for the scheme too, or a unix socket)
and the header holds an IP address. Off (no header named) unless the install sets it.
"""

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ClientAddressFromProxy:
    def __init__(self, application: WsgiApp, *, header: str, trusted: Iterable[str]) -> None:
        self.application = application
        self.key = "HTTP_" + header.strip().upper().replace("-", "_") if header.strip() else ""
        self.trusted = frozenset(address.strip() for address in trusted if address.strip())

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if self.key:
            peer = environ.get("REMOTE_ADDR", "") or ""
            # An empty peer is a unix socket: only processes allowed to open it reach it.
            if not peer or peer in self.trusted or "*" in self.trusted:
                forwarded = _address(environ.get(self.key, ""))
                if forwarded:
                    environ["kaunti.proxy_addr"] = peer
                    environ["REMOTE_ADDR"] = forwarded
        return self.application(environ, start_response)


def _address(value: str) -> str:
    """The header's value when it is one IP address, else "" (the peer's stays)."""
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return ""
