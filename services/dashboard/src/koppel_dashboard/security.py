"""Sessions, CSRF protection and login rate limits.

- The session cookie is Starlette's `SessionMiddleware`: signed with the dashboard's
  cookie secret (itsdangerous), HttpOnly, SameSite=Lax, Secure unless configured off. It
  carries only a random session id, the CSRF token and the chosen language; the session
  itself (`sessions`, `_id` = that id) says whose it is and until when, so logging out,
  expiry and a disabled account take effect at once.
- CSRF: a synchronizer token. A random token lives in the signed cookie (which a page on
  another site can neither read nor forge) and in every form; a POST whose token does not
  match is refused with 403. A cross-site `Origin` header is refused as well.
- Login attempts: failed logins are counted per account name and per client address in
  fixed windows (`login_attempts`, `_id` = scope, value and window); over the limit every
  login for it is refused until the window ends, the right password included.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from koppel_chassis.mongo import AsyncDatabase, Document, purge_expired
from starlette.requests import Request

from .accounts import ACCOUNTS, Account, AccountStore

SESSIONS = "sessions"
LOGIN_ATTEMPTS = "login_attempts"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class CsrfRefused(Exception):
    pass


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use (also before login: the login form)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, form: Any, public_base_url: str) -> None:
    expected = request.session.get("csrf")
    sent = form.get(CSRF_FIELD) if form is not None else None
    sent = sent or request.headers.get(CSRF_HEADER)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise CsrfRefused("missing or wrong CSRF token")
    origin = request.headers.get("origin")
    if origin and origin != "null":
        own = f"{request.url.scheme}://{request.url.netloc}"
        if origin.rstrip("/") not in (own, public_base_url):
            raise CsrfRefused(f"cross-site request from {origin}")
    elif origin == "null":
        raise CsrfRefused("request from an opaque origin")


@dataclass
class Sessions:
    db: AsyncDatabase[Document]
    lifetime: timedelta

    @property
    def accounts(self) -> AccountStore:
        return AccountStore(self.db[ACCOUNTS])

    async def start(self, request: Request, account: Account) -> None:
        """A fresh session id and CSRF token at login (no session fixation)."""
        old = request.session.get("sid")
        if old:
            await self.db[SESSIONS].delete_one({"_id": old})
        language = request.session.get("lang")
        request.session.clear()
        sid = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        await self.db[SESSIONS].insert_one(
            {
                "_id": sid,
                "account": account.email,
                "created_at": now,
                "expires_at": now + self.lifetime,
            }
        )
        request.session.update(
            sid=sid, csrf=secrets.token_urlsafe(32), lang=language or account.language
        )

    async def end(self, request: Request) -> None:
        sid = request.session.get("sid")
        if sid:
            await self.db[SESSIONS].delete_one({"_id": sid})
        language = request.session.get("lang")
        request.session.clear()
        if language:
            request.session["lang"] = language

    async def account(self, request: Request) -> Account | None:
        sid = request.session.get("sid")
        if not sid:
            return None
        doc = await self.db[SESSIONS].find_one({"_id": sid})
        if doc is None or doc["expires_at"] <= datetime.now(UTC):
            return None
        account = await self.accounts.get(doc["account"])
        if account is None or not account.active:
            return None
        return account

    async def purge(self) -> int:
        return await purge_expired(self.db[SESSIONS], "expires_at", datetime.now(UTC), timedelta(0))


@dataclass
class LoginLimiter:
    db: AsyncDatabase[Document]
    per_account: int
    per_address: int
    window_seconds: int

    def _ids(self, email: str, address: str, at: datetime) -> list[tuple[str, int]]:
        window = int(at.timestamp()) // self.window_seconds
        return [
            (f"account:{email.strip().lower()}:{window}", self.per_account),
            (f"address:{address}:{window}", self.per_address),
        ]

    async def blocked(self, email: str, address: str) -> bool:
        for _id, limit in self._ids(email, address, datetime.now(UTC)):
            doc = await self.db[LOGIN_ATTEMPTS].find_one({"_id": _id})
            if doc is not None and doc["count"] >= limit:
                return True
        return False

    async def failed(self, email: str, address: str) -> None:
        # `$inc` may under-count when two replicas race (docs/CONVENTIONS.md); a limit a few
        # attempts late is still a limit.
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=self.window_seconds)
        for _id, _ in self._ids(email, address, now):
            await self.db[LOGIN_ATTEMPTS].update_one(
                {"_id": _id},
                {"$inc": {"count": 1}, "$setOnInsert": {"expires_at": expires}},
                upsert=True,
            )

    async def purge(self) -> int:
        return await purge_expired(
            self.db[LOGIN_ATTEMPTS], "expires_at", datetime.now(UTC), timedelta(0)
        )
