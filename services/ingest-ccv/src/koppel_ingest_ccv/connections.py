"""The CCV connections this service serves, each with its API client.

Settings live in the chassis' ConnectionStore (secrets still encrypted); the
secret is decrypted only here, in memory, when a client is built. Clients are
kept per connection and rebuilt when the shop URL or credentials change, so
each connection keeps one request budget.
"""

from __future__ import annotations

from dataclasses import dataclass

from koppel_chassis import ConnectionStore, SecretBox
from koppel_contracts import ConnectionSettings, ShopSystem

from .client import CcvClient
from .mapping import Trigger
from .settings import IngestCcvSettings

SECRET_NAME = "api_secret"


class ConnectionUnusable(Exception):
    """The settings cannot work at all (no key, undecryptable secret); says why."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code


@dataclass(frozen=True)
class Connection:
    connection_id: str
    version: int
    settings: ConnectionSettings
    trigger: Trigger
    client: CcvClient


def concerns_us(settings: ConnectionSettings | None) -> bool:
    return settings is not None and settings.active and settings.shop.system == ShopSystem.CCVSHOP


def _client_identity(settings: ConnectionSettings) -> tuple[str, str, str]:
    shop = settings.shop
    return (str(shop.base_url), shop.account_id or "", shop.credentials.get(SECRET_NAME, ""))


class Connections:
    def __init__(self, store: ConnectionStore, settings: IngestCcvSettings, box: SecretBox) -> None:
        self.store = store
        self.settings = settings
        self.box = box
        self._clients: dict[str, tuple[tuple[str, str, str], CcvClient]] = {}

    async def get(self, connection_id: str) -> Connection | None:
        """The connection when it is an active CCV Shop connection, else None.

        Raises ConnectionUnusable when its settings cannot produce a client.
        """
        current = await self.store.current(connection_id)
        settings, version = current if current is not None else (None, 0)
        if not concerns_us(settings):
            await self.drop(connection_id)
            return None
        assert settings is not None
        return Connection(
            connection_id=connection_id,
            version=version,
            settings=settings,
            trigger=Trigger.parse(settings.shop.options.trigger_statuses),
            client=await self._client(connection_id, settings),
        )

    async def ids(self) -> list[str]:
        return [cid for cid, settings in (await self.store.all()).items() if concerns_us(settings)]

    async def _client(self, connection_id: str, settings: ConnectionSettings) -> CcvClient:
        identity = _client_identity(settings)
        cached = self._clients.get(connection_id)
        if cached is not None and cached[0] == identity:
            return cached[1]
        shop = settings.shop
        if not shop.account_id or SECRET_NAME not in shop.credentials:
            raise ConnectionUnusable(
                "shop_credentials_missing",
                f"the connection has no CCV public key (account_id) or credentials.{SECRET_NAME}",
            )
        try:
            secret = self.box.decrypt(shop.credentials[SECRET_NAME])
        except ValueError as error:
            raise ConnectionUnusable("shop_secret_unreadable", str(error)) from error
        s = self.settings
        client = CcvClient(
            str(shop.base_url),
            shop.account_id,
            secret,
            page_size=s.ccv_page_size,
            get_budget=s.ccv_get_budget,
            write_budget=s.ccv_write_budget,
            budget_window_seconds=s.ccv_budget_window_seconds,
            timeout_seconds=s.ccv_timeout_seconds,
            max_attempts=s.ccv_max_attempts,
            verify_response_signatures=s.ccv_verify_response_signatures,
        )
        await self.drop(connection_id)
        self._clients[connection_id] = (identity, client)
        return client

    async def drop(self, connection_id: str) -> None:
        cached = self._clients.pop(connection_id, None)
        if cached is not None:
            await cached[1].aclose()

    async def aclose(self) -> None:
        for connection_id in list(self._clients):
            await self.drop(connection_id)
