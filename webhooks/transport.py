"""Outgoing webhook requests that cannot be pointed at our own network.

An endpoint URL is chosen by an organization admin, so it is attacker-controlled input (a stolen
admin password, a hostile insider): a URL naming 127.0.0.1, 10.0.0.5 or 169.254.169.254 would
make our workers post to the database, Redis or the cloud's metadata service. So:

- the host is resolved and EVERY address it resolves to must be a public unicast address;
- the connection goes to the address we checked (the host name only goes in ``Host`` and in TLS
  SNI/certificate checks), so a DNS answer that changes between the check and the connect (DNS
  rebinding) cannot move the request;
- redirects are never followed (a 3xx is a failed delivery), timeouts are short, and nothing of
  the response is kept but its status line.

Plain http and loopback addresses are allowed only with WEBHOOKS_ALLOW_LOOPBACK (on in DEBUG,
switched on by the tests that run a receiver on loopback; never in production).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings
from django.utils.translation import gettext as _

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The URL may not be called; the message says why, for the admin who entered it."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL (lower-cased): for Host, SNI and the certificate check
    port: int
    path: str  # path and query
    address: str  # the checked IP address we connect to


def _address_allowed(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if address.is_loopback and settings.WEBHOOKS_ALLOW_LOOPBACK:
        return True
    if isinstance(address, ipaddress.IPv6Address):
        if address.teredo is not None or address.is_site_local:
            return False  # a tunnel to an IPv4 address of its choosing; fec0::/10 is internal
        if address.sixtofour is not None and not _public(address.sixtofour):
            return False  # 2002:7f00:1::1 is 127.0.0.1 through a 6to4 relay
    return _public(address)


def _public(address: IPAddress) -> bool:
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_link_local
        and not address.is_private
        and not address.is_unspecified
    )


def _is_loopback(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host resolves to (an IP literal resolves to itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise TargetRefused(_("The host name could not be resolved.")) from exc
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonname, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def target_check(url: str) -> Target:
    """The checked target for a URL, or TargetRefused. Called when an endpoint is saved and
    again before every delivery (a name that resolved to a public address yesterday may not)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in {"https", "http"}:
        raise TargetRefused(_("The address must start with https://."))
    if parts.username is not None or parts.password is not None:
        raise TargetRefused(_("The address must not contain a user name or password."))
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise TargetRefused(_("The address has no host name."))
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused(_("The address has an invalid port.")) from exc
    addresses = resolve(host, port)
    if not addresses:
        raise TargetRefused(_("The host name could not be resolved."))
    if not all(_address_allowed(address) for address in addresses):
        raise TargetRefused(
            _(
                "The address points to a private, loopback, link-local or reserved network. "
                "Webhooks go only to public internet addresses."
            )
        )
    if scheme == "http" and not all(_is_loopback(address) for address in addresses):
        raise TargetRefused(_("The address must start with https://."))
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=scheme, host=host, port=port, path=path, address=str(addresses[0]))


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer at all (refused, timed out, TLS failed)
    reason: str  # short, for the delivery log; never the response body


def post(target: Target, *, body: bytes, headers: dict[str, str]) -> Answer:
    """POST the body to the checked address. Never raises for network trouble: it answers."""
    timeout = urllib3.Timeout(
        connect=settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS,
        read=settings.WEBHOOKS_TIMEOUT_SECONDS,
        total=settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS + settings.WEBHOOKS_TIMEOUT_SECONDS,
    )
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    else:
        pool = urllib3.HTTPConnectionPool(
            target.address, target.port, timeout=timeout, retries=False, maxsize=1
        )
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers={**headers, "Host": _host_header(target)},
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        status = int(response.status)
        reason = f"HTTP {status} {response.reason or ''}".strip()
        if 300 <= status < 400:
            reason = f"{reason} (redirects are not followed)"
        response.release_conn()
        return Answer(status=status, reason=reason[:200])
    except urllib3.exceptions.HTTPError as exc:
        return Answer(status=None, reason=_describe(exc))
    except OSError as exc:
        return Answer(status=None, reason=_describe(exc))
    finally:
        pool.close()


def _describe(exc: BaseException) -> str:
    """A short reason: the exception's kind and the first line of what it says."""
    cause = exc
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        cause = reason
    text = str(cause).splitlines()[0] if str(cause) else ""
    return f"{type(cause).__name__}: {text}"[:200]
