"""Fixtures for "test this connection" features: what a merchant's typo or hosting
does to a shop URL, reproduced locally.

- `serve_tls(app)` runs any ASGI app over HTTPS with a freshly made self-signed
  certificate authority (trustme), so a client can be tested both refusing it
  (the default) and trusting it (`verify=server.ca_path`).
- `redirect_app()` redirects every request to a page that answers 404 with an
  HTML body — what a mistyped shop URL usually gets from the web server or CMS.
- `html_page_app()` is a plain HTML site that is not a shop API at all.
"""

from __future__ import annotations

import contextlib
import ssl
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import trustme
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from .server import running_uvicorn

NOT_FOUND_PATH = "/pagina-niet-gevonden"

NOT_FOUND_HTML = """<!DOCTYPE html>
<html lang="nl">
<head><meta charset="utf-8"><title>Pagina niet gevonden</title></head>
<body><h1>Oeps! Deze pagina bestaat niet (meer).</h1>
<p>Controleer het adres of ga terug naar de <a href="/">homepage</a>.</p></body>
</html>
"""

PLAIN_SITE_HTML = """<!DOCTYPE html>
<html lang="nl">
<head><meta charset="utf-8"><title>Bakkerij De Korenbloem</title></head>
<body><h1>Welkom bij Bakkerij De Korenbloem</h1>
<p>Vers brood, elke dag. Bestellen kan in de winkel.</p></body>
</html>
"""


@dataclass(frozen=True)
class SelfSignedCertificate:
    """A server certificate signed by a throw-away CA; `ca_path` is what a client trusts."""

    cert_path: Path
    key_path: Path
    ca_path: Path

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_path))


@contextlib.contextmanager
def self_signed_certificate(
    *hostnames: str, directory: Path | None = None
) -> Iterator[SelfSignedCertificate]:
    """PEM files for a certificate valid for `hostnames` (default 127.0.0.1 and localhost)."""
    names = hostnames or ("127.0.0.1", "localhost")
    authority = trustme.CA()
    issued = authority.issue_cert(*names)
    with contextlib.ExitStack() as stack:
        folder = directory or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        cert_path, key_path, ca_path = (folder / n for n in ("cert.pem", "key.pem", "ca.pem"))
        issued.private_key_pem.write_to_path(str(key_path))
        # The chain (leaf first) so clients that trust only the CA can verify it.
        cert_path.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
        authority.cert_pem.write_to_path(str(ca_path))
        yield SelfSignedCertificate(cert_path, key_path, ca_path)


@dataclass(frozen=True)
class TlsServer:
    url: str
    certificate: SelfSignedCertificate

    @property
    def ca_path(self) -> Path:
        return self.certificate.ca_path


@contextlib.asynccontextmanager
async def serve_tls(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int | None = None,
    certificate: SelfSignedCertificate | None = None,
) -> AsyncIterator[TlsServer]:
    """Like `serve`, but over HTTPS with a self-signed certificate; yields url + CA."""
    with contextlib.ExitStack() as stack:
        cert = certificate or stack.enter_context(self_signed_certificate(host, "localhost"))
        async with running_uvicorn(
            app, host, port, ssl_certfile=str(cert.cert_path), ssl_keyfile=str(cert.key_path)
        ) as bound:
            yield TlsServer(f"https://{host}:{bound}", cert)


def redirect_app(status_code: int = 302, target: str = NOT_FOUND_PATH) -> Starlette:
    """Every request is redirected (absolute Location on the same host) to a page
    answering 404 with an HTML body, as a CMS does for an unknown path."""

    async def not_found(_: Request) -> Response:
        return HTMLResponse(NOT_FOUND_HTML, status_code=404)

    async def redirect(request: Request) -> Response:
        location = str(request.base_url).rstrip("/") + target
        return RedirectResponse(location, status_code=status_code)

    return Starlette(
        routes=[
            Route(target, not_found, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
            Route(
                "/{rest:path}", redirect, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
            ),
        ]
    )


def html_page_app(html: str = PLAIN_SITE_HTML) -> Starlette:
    """A plain website: 200 with the same HTML page for every path and method."""

    async def page(_: Request) -> Response:
        return HTMLResponse(html)

    return Starlette(
        routes=[Route("/{rest:path}", page, methods=["GET", "HEAD", "POST", "PUT", "PATCH"])]
    )
