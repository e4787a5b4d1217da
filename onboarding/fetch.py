"""Fetch a user-supplied web page without letting it reach inside the network (SSRF).

Every connection, the first and each redirect hop, goes through `_GuardedBackend.connect_tcp`: the host is
resolved here, every address it resolves to must be public (not private, loopback, link-local, shared,
multicast, reserved or unspecified) unless it lies in CAIRN_ONBOARDING_FETCH_ALLOWED_NETWORKS, and the
socket is opened to the address that was checked, so a DNS answer cannot change between check and use.
Redirects are followed by hand (at most CAIRN_ONBOARDING_FETCH_MAX_REDIRECTS), the body is read up to
CAIRN_ONBOARDING_FETCH_MAX_BYTES, and each network operation has a timeout, with a deadline for the whole.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass, field

import httpcore
import httpx
from django.conf import settings

USER_AGENT = "CairnStyleBot/1.0 (website style analysis for onboarding)"
HTML_TYPES = ("text/html", "application/xhtml+xml")


class FetchError(Exception):
    """The page could not be fetched; the message is a sentence for the user."""


@dataclass
class Page:
    url: str
    final_url: str
    status_code: int
    content_type: str
    body: bytes
    redirects: list[str] = field(default_factory=list)


def _allowed_networks() -> list:
    return [ipaddress.ip_network(n, strict=False) for n in settings.CAIRN_ONBOARDING_FETCH_ALLOWED_NETWORKS]


def refusal(address: str, allowed: list) -> str | None:
    """Why connecting to `address` is refused, or None when it is allowed."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip.version == net.version and ip in net for net in allowed):
        return None
    for kind, flag in [
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    ]:
        if flag:
            return f"{ip} is a {kind} address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


def resolve_public(host: str, port: int, allowed: list) -> list[str]:
    """The addresses of `host`, all of them allowed; FetchError naming the first refused one."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise FetchError(f"{host} could not be found (DNS).") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    for address in addresses:
        why = refusal(address, allowed)
        if why:
            raise FetchError(f"Refused to fetch from {host}: {why}.")
    if not addresses:
        raise FetchError(f"{host} could not be found (DNS).")
    return addresses


class _GuardedBackend(httpcore.NetworkBackend):
    def __init__(self, allowed: list):
        self._inner = httpcore.SyncBackend()
        self._allowed = allowed

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        address = resolve_public(host, port, self._allowed)[0]
        return self._inner.connect_tcp(
            address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    def connect_unix_socket(self, path, timeout=None, socket_options=None):  # pragma: no cover - never configured
        raise FetchError("Refused: unix sockets are not fetched.")

    def sleep(self, seconds):  # pragma: no cover - httpcore retries are off
        self._inner.sleep(seconds)


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, allowed: list):
        super().__init__(retries=0, trust_env=False)
        # httpx builds its pool without a way to pass a network backend; replace it with one that has ours.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=4,
            network_backend=_GuardedBackend(allowed),
            retries=0,
        )


def fetch_page(url: str) -> Page:
    """GET an HTML page, following redirects by hand; FetchError with a sentence for the user on any failure."""
    timeout = settings.CAIRN_ONBOARDING_FETCH_TIMEOUT
    max_bytes = settings.CAIRN_ONBOARDING_FETCH_MAX_BYTES
    max_redirects = settings.CAIRN_ONBOARDING_FETCH_MAX_REDIRECTS
    deadline = time.monotonic() + 3 * timeout
    redirects: list[str] = []
    current = url
    client = httpx.Client(
        transport=_GuardedTransport(_allowed_networks()),
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"},
    )
    try:
        with client:
            for _ in range(max_redirects + 1):
                scheme = httpx.URL(current).scheme
                if scheme not in ("http", "https"):
                    raise FetchError(f"Refused to follow a link to a {scheme or 'relative'}: address.")
                with client.stream("GET", current) as response:
                    if response.is_redirect:
                        location = response.headers.get("location")
                        if not location:
                            raise FetchError(f"The site answered a redirect ({response.status_code}) with no target.")
                        current = str(response.url.join(location))
                        redirects.append(current)
                        continue
                    return _read(url, current, response, redirects, max_bytes, deadline)
            raise FetchError(f"The site redirected more than {max_redirects} times.")
    except httpx.TimeoutException:
        raise FetchError(f"The site did not answer within {timeout:g} seconds.") from None
    except httpx.InvalidURL:
        raise FetchError("That address cannot be fetched.") from None
    except httpx.HTTPError as error:
        raise FetchError(f"Could not fetch the page ({type(error).__name__}).") from None


def _read(url, final_url, response, redirects, max_bytes, deadline) -> Page:
    if response.status_code >= 400:
        raise FetchError(f"The site answered HTTP {response.status_code}.")
    content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type and content_type not in HTML_TYPES:
        raise FetchError(f"The address is not a web page ({content_type}).")
    limit = f"{max_bytes / (1024 * 1024):g} MB"
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"The page is larger than {limit}.")
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise FetchError(f"The page is larger than {limit}.")
        if time.monotonic() > deadline:
            raise FetchError("The site sent the page too slowly.")
    return Page(
        url=url,
        final_url=final_url,
        status_code=response.status_code,
        content_type=content_type,
        body=bytes(body),
        redirects=redirects,
    )
