"""The web application: session and security middleware, templates, and what every page
needs (the logged-in account, the connection it may see, a checked form)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from koppel_chassis import ConnectionStore, EventPublisher, Sealer
from koppel_chassis.mongo import AsyncDatabase, Document
from koppel_contracts import ConnectionSettings
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import formatting
from .accounts import Account
from .cases import SupportCases
from .commands import Commands
from .i18n import LANGUAGES, translator
from .readmodel import ReadModel
from .security import CsrfRefused, LoginLimiter, Sessions, check_csrf, csrf_token
from .settings import DashboardSettings

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
COOKIE = "koppel_session"


@dataclass
class Deps:
    settings: DashboardSettings
    db: AsyncDatabase[Document]
    readmodel: ReadModel
    connections: ConnectionStore
    publisher: EventPublisher
    sealer: Sealer  # encrypts typed credentials, each with its system's key
    sessions: Sessions
    limiter: LoginLimiter
    cases: SupportCases
    commands: Commands


class LoginRequired(Exception):
    pass


class NotFound(Exception):
    pass


def deps(request: Request) -> Deps:
    return request.app.state.deps  # type: ignore[no-any-return]


def language(request: Request) -> str:
    lang = request.session.get("lang")
    return lang if lang in LANGUAGES else "nl"


_env = Environment(
    loader=PackageLoader("koppel_dashboard", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def flash(request: Request, key: str, **params: Any) -> None:
    """A message for the next page this browser sees (after a redirect)."""
    request.session["flash"] = {"key": key, "params": params}


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    lang = language(request)
    values = {
        "flash": request.session.pop("flash", None),
        "request": request,
        "lang": lang,
        "t": translator(lang),
        "csrf": csrf_token(request),
        "money": partial(formatting.money, lang=lang),
        "day": partial(formatting.day, lang=lang),
        "moment": partial(formatting.moment, lang=lang),
        "rate": formatting.rate,
        "system": formatting.system_name,
        "q": partial(quote, safe=""),
        "account": None,
        "connection_id": None,
        "tab": None,
        **context,
    }
    body = _env.get_template(template).render(values)
    return HTMLResponse(body, status_code=status_code)


async def current_account(request: Request) -> Account:
    account = await deps(request).sessions.account(request)
    if account is None:
        raise LoginRequired
    return account


async def visible_connection(
    request: Request, account: Account, connection_id: str
) -> tuple[ConnectionSettings, int]:
    """The connection's settings, when this account may see it. Someone else's connection
    answers exactly like one that does not exist: 404, nothing about whose it is."""
    if not account.may_see(connection_id):
        raise NotFound
    found = await deps(request).connections.current(connection_id)
    if found is None:
        raise NotFound
    return found


async def checked_form(request: Request) -> FormData:
    form = await request.form()
    check_csrf(request, form, deps(request).settings.public_base_url)
    return form


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


class SecurityHeaders:
    """Headers every answer carries: no framing, no third-party scripts, no sniffing."""

    HEADERS: ClassVar[list[tuple[bytes, bytes]]] = [
        (
            b"content-security-policy",
            b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    ]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *self.HEADERS]
                if scope["path"] != "/static/htmx.min.js":
                    message["headers"].append((b"cache-control", b"no-store"))
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(state: Deps, routes: list[BaseRoute]) -> Starlette:
    settings = state.settings

    async def login_required(request: Request, _: Exception) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"/login?next={quote(target, safe='')}")

    async def not_found(request: Request, _: Exception) -> Response:
        return render(request, "error.html", 404, message_key="error.not_found")

    async def csrf_refused(request: Request, error: Exception) -> Response:
        log.warning("form refused: %s", error)
        return render(request, "error.html", 403, message_key="error.csrf")

    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
        LoginRequired: login_required,
        NotFound: not_found,
        CsrfRefused: csrf_refused,
        404: not_found,
    }
    app = Starlette(
        routes=[*routes, Mount("/static", app=StaticFiles(directory=STATIC), name="static")],
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=settings.cookie_secret.get_secret_value(),
                session_cookie=COOKIE,
                max_age=int(settings.session_hours * 3600),
                same_site="lax",
                https_only=settings.secure_cookies,
            ),
        ],
        exception_handlers=handlers,
    )
    app.state.deps = state
    return app
