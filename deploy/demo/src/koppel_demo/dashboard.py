"""The demo's dashboard accounts: one support account that sees every connection, and one
merchant account per demo merchant that sees only its own — all with the same demo
password, printed in the guide. Written the way the operator CLI writes them
(`koppel_dashboard.accounts`: one document shape, one password hashing)."""

from __future__ import annotations

from typing import Any

from koppel_dashboard.accounts import ACCOUNTS, AccountError, AccountStore
from pymongo import AsyncMongoClient

from .bol import BOL_CONNECTION_ID, BOL_MERCHANT_EMAIL
from .config import SystemConfig, database_prefix
from .demo_data import (
    ASPERION_CONNECTION_ID,
    ASPERION_MERCHANT_EMAIL,
    CONNECTION_ID,
    MERCHANT_EMAIL,
    TEA_CONNECTION_ID,
    TEA_MERCHANT_EMAIL,
)
from .prestashop import PRESTASHOP_CONNECTION_ID, PRESTASHOP_MERCHANT_EMAIL

DEMO_PASSWORD = "demo-wachtwoord"

# (login, connection it may see, name shown)
MERCHANT_ACCOUNTS: list[tuple[str, str, str]] = [
    (MERCHANT_EMAIL, CONNECTION_ID, "Koffiebranderij Demo"),
    (TEA_MERCHANT_EMAIL, TEA_CONNECTION_ID, "Theehuis Demo"),
    (ASPERION_MERCHANT_EMAIL, ASPERION_CONNECTION_ID, "Chocolaterie Demo"),
    (PRESTASHOP_MERCHANT_EMAIL, PRESTASHOP_CONNECTION_ID, "Bonenhuis Demo"),
    (BOL_MERCHANT_EMAIL, BOL_CONNECTION_ID, "Leeshuis Demo"),
]


async def create_demo_accounts(config: SystemConfig) -> list[tuple[str, str]]:
    """The support account and every merchant's (an account left by an earlier run gets the
    demo password again). Returns (login, what it sees) in the order the guide lists them."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        config.mongodb_uri, tz_aware=True, serverSelectionTimeoutMS=5000
    )
    try:
        store = AccountStore(client[f"{database_prefix(config)}dashboard"][ACCOUNTS])
        made = [(config.support_email, "support: every connection and the support cases")]
        await _create(store, config.support_email, "support", [], "Support Demo")
        for email, connection_id, name in MERCHANT_ACCOUNTS:
            await _create(store, email, "merchant", [connection_id], name)
            made.append((email, connection_id))
        return made
    finally:
        await client.close()


async def _create(
    store: AccountStore, email: str, role: str, connections: list[str], name: str
) -> None:
    try:
        await store.create(email, DEMO_PASSWORD, role, connections, name=name)
    except AccountError:  # there from an earlier run that kept its database
        await store.set_password(email, DEMO_PASSWORD)
