"""Where and as whom a connection logs in to Octopus, and one client per connection.

Secrets stay encrypted in `OctopusAccount` until the client logs in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import httpx
from koppel_chassis import SecretBox
from koppel_contracts import ConnectionSettings
from koppel_ledger import LedgerMetrics, SettingsIncomplete

from .client import ClientOptions, OctopusClient


@dataclass(frozen=True)
class OctopusAccount:
    """Where and as whom to log in. Secrets stay encrypted until `login`."""

    base_url: str
    dossier_id: int
    software_house_uuid: str
    username: str
    password: str
    fingerprint: str

    @property
    def dossier_key(self) -> str:
        """Identifies the dossier (not the login): caches of its data are keyed by this."""
        return hashlib.sha256(f"{self.base_url}|{self.dossier_id}".encode()).hexdigest()[:16]

    @classmethod
    def from_settings(cls, settings: ConnectionSettings) -> OctopusAccount:
        ledger = settings.ledger
        missing = [
            k
            for k in ("software_house_uuid", "username", "password")
            if k not in ledger.credentials
        ]
        if missing:
            raise SettingsIncomplete(f"ledger.credentials lacks {', '.join(missing)}")
        if not ledger.dossier_id or not ledger.dossier_id.strip().isdigit():
            raise SettingsIncomplete("ledger.dossier_id must be the numeric Octopus dossier id")
        creds = ledger.credentials
        base_url = str(ledger.base_url).rstrip("/")
        fingerprint = hashlib.sha256(
            "|".join(
                [
                    base_url,
                    ledger.dossier_id,
                    creds["software_house_uuid"],
                    creds["username"],
                    creds["password"],
                ]
            ).encode()
        ).hexdigest()[:16]
        return cls(
            base_url=base_url,
            dossier_id=int(ledger.dossier_id),
            software_house_uuid=creds["software_house_uuid"],
            username=creds["username"],
            password=creds["password"],
            fingerprint=fingerprint,
        )


# --- the client ---------------------------------------------------------------


class ClientRegistry:
    """One `OctopusClient` per connection, replaced when its login or dossier changes."""

    def __init__(
        self,
        secrets: SecretBox,
        options: ClientOptions,
        metrics: LedgerMetrics | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.secrets = secrets
        self.options = options
        self.metrics = metrics
        self.transport = transport
        self._clients: dict[str, OctopusClient] = {}
        self._retired: list[OctopusClient] = []

    def get(self, connection_id: str, settings: ConnectionSettings) -> OctopusClient:
        account = OctopusAccount.from_settings(settings)
        client = self._clients.get(connection_id)
        if client is not None and client.account == account:
            return client
        if client is not None:
            self._retire(client)
        client = OctopusClient(
            account,
            self.secrets,
            options=self.options,
            metrics=self.metrics,
            transport=self.transport,
        )
        self._clients[connection_id] = client
        return client

    def drop(self, connection_id: str) -> None:
        """Forget the client (and its tokens): new settings, or credentials refused."""
        client = self._clients.pop(connection_id, None)
        if client is not None:
            self._retire(client)

    def _retire(self, client: OctopusClient) -> None:
        # Another task may still be mid-call on it: it is closed at shutdown.
        client.drop_tokens()
        self._retired.append(client)

    async def aclose(self) -> None:
        for client in [*self._clients.values(), *self._retired]:
            await client.aclose()
        self._clients.clear()
        self._retired.clear()
