"""Logging in and out, and the language switch."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .i18n import LANGUAGES
from .web import checked_form, current_account, deps, redirect, render

log = logging.getLogger(__name__)


def safe_next(target: str | None) -> str:
    """Only a path on this site: a login link must not send anyone elsewhere."""
    if not target:
        return "/connections"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/connections"
    return target


async def login_page(request: Request) -> Response:
    return render(
        request,
        "login.html",
        next=safe_next(request.query_params.get("next")),
        email="",
        message=None,
    )


async def login(request: Request) -> Response:
    form = await checked_form(request)
    state = deps(request)
    email = str(form.get("email", "")).strip().lower()
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")))
    address = request.client.host if request.client else "unknown"
    if await state.limiter.blocked(email, address):
        log.warning("login refused: too many attempts", extra={"account": email})
        return render(request, "login.html", 429, next=target, email=email, message="login.blocked")
    account = await state.sessions.accounts.authenticate(email, password)
    if account is None:
        await state.limiter.failed(email, address)
        log.info("login failed", extra={"account": email})
        return render(request, "login.html", 401, next=target, email=email, message="login.wrong")
    await state.sessions.start(request, account)
    log.info("logged in", extra={"account": account.email})
    return redirect(target)


async def logout(request: Request) -> Response:
    await checked_form(request)
    await deps(request).sessions.end(request)
    return redirect("/login")


async def switch_language(request: Request) -> Response:
    code = request.path_params["code"]
    if code in LANGUAGES:
        request.session["lang"] = code
    return redirect(safe_next(request.query_params.get("next")))


async def home(request: Request) -> Response:
    await current_account(request)
    return redirect("/connections")


ROUTES = [
    Route("/", home),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/lang/{code}", switch_language),
]
