"""Real servers on loopback for domain-control-validation tests.

- ``DnsZone`` + ``LabDnsServer``: an authoritative-and-recursive-looking DNS server (dnslib,
  UDP on 127.0.0.1, a port the kernel picks) answering from a mutable zone of TXT, CAA, A,
  AAAA and CNAME records. CNAMEs are chased inside the server the way a recursive resolver
  would, so the answer carries the chain plus the target's records. A name can be made to
  answer SERVFAIL (``zone.servfail(name)``) or never answer at all (``zone.drop(name)``, a
  timeout for the client).
- ``HttpSite``: a ``ThreadingHTTPServer`` on 127.0.0.1 serving ``path -> (status, body,
  headers)`` and recording each request's path and Host header.

Both bind port 0, so parallel test workers never collide. The fixtures that start them and
point the settings at them (``dns_zone``, ``http_site``) live in this folder's
``conftest.py``; other test folders can reuse the classes directly or import the fixtures
from ``tests.certdesk.validation.conftest`` into their own conftest.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from dnslib import AAAA, CAA, CNAME, QTYPE, RCODE, RR, TXT, A, DNSError, DNSRecord
from dnslib.server import DNSServer

TTL = 60
MAX_CNAME_HOPS = 8
# socketserver checks for shutdown this often; its default (0.5 s) would make every test's
# teardown wait that long.
POLL_INTERVAL = 0.02


def _key(name: str) -> str:
    return name.lower().rstrip(".")


@dataclass
class DnsZone:
    """The records the lab DNS server answers from; safe to change while it runs."""

    records: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    servfail_names: set[str] = field(default_factory=set)
    dropped_names: set[str] = field(default_factory=set)
    queries: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Set by LabDnsServer once it is listening.
    address: str = ""

    def _add(self, name: str, qtype: str, rdata: Any) -> DnsZone:
        with self.lock:
            self.records.setdefault((_key(name), qtype), []).append(rdata)
        return self

    def add_txt(self, name: str, *strings: str) -> DnsZone:
        """One TXT record; several ``strings`` make a multi-string record."""
        return self._add(name, "TXT", TXT([s.encode() for s in strings]))

    def add_caa(self, name: str, tag: str, value: str, *, flags: int = 0) -> DnsZone:
        return self._add(name, "CAA", CAA(flags, tag, value))

    def add_a(self, name: str, address: str) -> DnsZone:
        return self._add(name, "A", A(address))

    def add_aaaa(self, name: str, address: str) -> DnsZone:
        return self._add(name, "AAAA", AAAA(address))

    def add_cname(self, name: str, target: str) -> DnsZone:
        return self._add(name, "CNAME", CNAME(_key(target) + "."))

    def remove(self, name: str, qtype: str | None = None) -> DnsZone:
        """Delete the records of ``name`` (of one type, or all)."""
        with self.lock:
            for key in [k for k in self.records if k[0] == _key(name)]:
                if qtype is None or key[1] == qtype:
                    del self.records[key]
        return self

    def servfail(self, name: str) -> DnsZone:
        with self.lock:
            self.servfail_names.add(_key(name))
        return self

    def drop(self, name: str) -> DnsZone:
        """Never answer queries for ``name``: the client sees a timeout."""
        with self.lock:
            self.dropped_names.add(_key(name))
        return self

    def queried(self, qtype: str) -> list[str]:
        """The names asked for with ``qtype``, in order."""
        with self.lock:
            return [name for name, kind in self.queries if kind == qtype]

    def _exists(self, name: str) -> bool:
        # A name with records, or with records below it (an empty non-terminal), is NOERROR.
        return any(key == name or key.endswith("." + name) for key, _kind in self.records)

    def answer(self, request: DNSRecord) -> DNSRecord:
        """The reply to ``request``; raises ``DNSError`` to send nothing at all."""
        qname = _key(str(request.q.qname))
        qtype = QTYPE[request.q.qtype]
        reply = request.reply()
        with self.lock:
            self.queries.append((qname, qtype))
            name = qname
            for _hop in range(MAX_CNAME_HOPS):
                if name in self.dropped_names:
                    raise DNSError(f"dropping the query for {name}")
                if name in self.servfail_names:
                    reply.header.rcode = RCODE.SERVFAIL
                    return reply
                found = self.records.get((name, qtype))
                if found:
                    for rdata in found:
                        reply.add_answer(RR(name + ".", QTYPE.reverse[qtype], rdata=rdata, ttl=TTL))
                    return reply
                cname = self.records.get((name, "CNAME"))
                if cname and qtype != "CNAME":
                    reply.add_answer(RR(name + ".", QTYPE.CNAME, rdata=cname[0], ttl=TTL))
                    name = _key(str(cname[0].label))
                    continue
                if not self._exists(name):
                    reply.header.rcode = RCODE.NXDOMAIN
                return reply
            reply.header.rcode = RCODE.SERVFAIL  # a CNAME loop
            return reply


class _ZoneResolver:
    def __init__(self, zone: DnsZone) -> None:
        self.zone = zone

    def resolve(self, request: DNSRecord, handler: object) -> DNSRecord:
        return self.zone.answer(request)


class _QuietLogger:
    """dnslib prints every query by default; tests want silence."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


class LabDnsServer:
    """A dnslib UDP server on 127.0.0.1 answering from ``zone``; use as a context manager."""

    def __init__(self, zone: DnsZone | None = None) -> None:
        self.zone = zone or DnsZone()
        self._server = DNSServer(
            _ZoneResolver(self.zone), address="127.0.0.1", port=0, logger=_QuietLogger()
        )
        host, port = self._server.server.server_address[:2]
        self.address = f"{host}:{port}"
        self.zone.address = self.address
        self._thread = threading.Thread(
            target=self._server.server.serve_forever, args=(POLL_INTERVAL,), daemon=True
        )

    def start(self) -> LabDnsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.server.shutdown()
        self._server.server.server_close()

    def __enter__(self) -> LabDnsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class Seen:
    path: str
    host: str


class HttpSite:
    """A real HTTP server on 127.0.0.1: ``serve(path, body)`` adds a page; every request is
    recorded in ``requests``. ``hosts`` is the name -> address map the fixture installs as
    ``settings.DCV_HOSTS``; ``add_host`` points one more name at this server."""

    def __init__(self, hosts: Mapping[str, str] | None = None) -> None:
        self.pages: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.requests: list[Seen] = []
        self.hosts: dict[str, str] = dict(hosts or {})
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server hook name
                site.requests.append(Seen(path=self.path, host=self.headers.get("Host", "")))
                status, body, headers = site.pages.get(self.path, (404, b"not found", {}))
                self.send_response(status)
                for header, value in headers.items():
                    self.send_header(header, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(POLL_INTERVAL,), daemon=True
        )

    def serve(
        self,
        path: str,
        body: str | bytes,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HttpSite:
        data = body.encode() if isinstance(body, str) else body
        self.pages[path] = (status, data, dict(headers or {}))
        return self

    def add_host(self, name: str, address: str = "127.0.0.1") -> HttpSite:
        self.hosts[_key(name)] = address
        return self

    def start(self) -> HttpSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HttpSite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
