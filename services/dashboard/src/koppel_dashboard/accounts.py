"""Dashboard accounts: who may log in, with which role, for which connections.

A *merchant* sees only the connections listed on their account; *support* sees every
connection and the support cases. Passwords are hashed with Argon2id (argon2-cffi, its
recommended parameters); a hash made with older parameters is renewed at the next login.

The operator CLI (`koppel accounts create|list|disable`) uses this module on the
dashboard's own database: accounts are the dashboard's state, nobody else needs them, and a
password hash has no business on a retained Kafka topic. The document shape, `_id` = the
account's e-mail address in lower case:

    {_id, role: merchant|support, connections: [..], language: nl|en, name,
     password_hash, active, created_at, updated_at, last_login_at}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

ACCOUNTS = "accounts"
MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHasher()
# Verifying against this when the account does not exist takes as long as a real check,
# so the answer time does not tell which addresses have an account.
_DUMMY_HASH = _hasher.hash("no such account, constant-time answer")


class Role(StrEnum):
    MERCHANT = "merchant"
    SUPPORT = "support"


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class Account:
    email: str
    role: Role
    connections: list[str] = field(default_factory=list)
    language: str = "nl"
    name: str = ""
    active: bool = True

    @property
    def is_support(self) -> bool:
        return self.role is Role.SUPPORT

    def may_see(self, connection_id: str) -> bool:
        return self.is_support or connection_id in self.connections

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Account:
        return cls(
            email=doc["_id"],
            role=Role(doc["role"]),
            connections=list(doc.get("connections") or []),
            language=doc.get("language", "nl"),
            name=doc.get("name", ""),
            active=bool(doc.get("active", True)),
        )


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or " " in email or len(email) > 254:
        raise AccountError(f"not an e-mail address: {email!r}")
    return email


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


class AccountStore:
    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self.collection = collection

    async def create(
        self,
        email: str,
        password: str,
        role: Role | str,
        connections: list[str] | None = None,
        *,
        language: str = "nl",
        name: str = "",
    ) -> Account:
        email = normalise_email(email)
        role = Role(role)
        if role is Role.MERCHANT and not connections:
            raise AccountError("a merchant account needs at least one connection")
        if language not in ("nl", "en"):
            raise AccountError("language must be nl or en")
        now = datetime.now(UTC)
        doc = {
            "_id": email,
            "role": str(role),
            "connections": sorted(set(connections or [])),
            "language": language,
            "name": name,
            "password_hash": hash_password(password),
            "active": True,
            "created_at": now,
            "updated_at": now,
        }
        try:
            await self.collection.insert_one(doc)
        except DuplicateKeyError:
            raise AccountError(f"an account {email} exists already") from None
        return Account.from_document(doc)

    async def get(self, email: str) -> Account | None:
        doc = await self.collection.find_one({"_id": email.strip().lower()})
        return Account.from_document(doc) if doc else None

    async def all(self) -> list[Account]:
        return sorted(
            [Account.from_document(d) async for d in self.collection.find({})],
            key=lambda a: a.email,
        )

    async def set_active(self, email: str, active: bool) -> bool:
        result = await self.collection.update_one(
            {"_id": email.strip().lower()},
            {"$set": {"active": active, "updated_at": datetime.now(UTC)}},
        )
        return result.matched_count == 1

    async def set_password(self, email: str, password: str) -> bool:
        result = await self.collection.update_one(
            {"_id": email.strip().lower()},
            {"$set": {"password_hash": hash_password(password), "updated_at": datetime.now(UTC)}},
        )
        return result.matched_count == 1

    async def authenticate(self, email: str, password: str) -> Account | None:
        """The account when the password is right and the account active; else None."""
        doc = await self.collection.find_one({"_id": email.strip().lower()})
        if doc is None:
            _verify(_DUMMY_HASH, password)
            return None
        if not _verify(doc["password_hash"], password) or not doc.get("active", True):
            return None
        update: dict[str, Any] = {"last_login_at": datetime.now(UTC)}
        if _hasher.check_needs_rehash(doc["password_hash"]):
            update["password_hash"] = _hasher.hash(password)
        await self.collection.update_one({"_id": doc["_id"]}, {"$set": update})
        return Account.from_document(doc)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
