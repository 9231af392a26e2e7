"""Behind nginx, limits and allow-lists see the citizen's address, never nginx's."""

from collections.abc import Callable, Iterable
from typing import Any

from kaunti.core.proxy import ClientAddressFromProxy


def seen_address(wrapper_args: dict[str, Any], environ: dict[str, Any]) -> str:
    seen: dict[str, str] = {}

    def app(env: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen["addr"] = env["REMOTE_ADDR"]
        return [b""]

    ClientAddressFromProxy(app, **wrapper_args)(environ, lambda *a: None)
    return seen["addr"]


NGINX = {"header": "X-Real-IP", "trusted": ["127.0.0.1"]}


def test_the_address_nginx_saw_replaces_nginx_s_own() -> None:
    environ = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": "196.201.214.200"}
    assert seen_address(NGINX, environ) == "196.201.214.200"


def test_on_a_unix_socket_the_proxy_is_trusted() -> None:
    environ = {"REMOTE_ADDR": "", "HTTP_X_REAL_IP": "2001:db8::7"}
    assert seen_address(NGINX, environ) == "2001:db8::7"


def test_a_client_that_is_not_the_proxy_cannot_claim_an_address() -> None:
    environ = {"REMOTE_ADDR": "41.90.1.2", "HTTP_X_REAL_IP": "196.201.214.200"}
    assert seen_address(NGINX, environ) == "41.90.1.2"


def test_a_header_that_is_not_one_address_is_ignored() -> None:
    for junk in ["", "unknown", "1.2.3.4, 5.6.7.8", "196.201.214.200\x00"]:
        environ = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": junk}
        assert seen_address(NGINX, environ) == "127.0.0.1"


def test_without_a_header_named_nothing_is_taken_from_requests() -> None:
    environ = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": "196.201.214.200"}
    assert seen_address({"header": "", "trusted": ["127.0.0.1"]}, environ) == "127.0.0.1"
