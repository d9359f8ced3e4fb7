"""Shared pieces of the ledger-octopus tests: a demo connection, waiting, reading state."""

from __future__ import annotations

from koppel_chassis import SecretBox
from koppel_contracts import (
    BookingMode,
    BookingOptions,
    ConnectionSettings,
    ConnectionSettingsEvent,
    LedgerConnection,
    Merchant,
    OctopusOptions,
    ShopConnection,
)
from koppel_sandbox_octopus import DEMO, demo_booking, demo_octopus
from koppel_testkit import eventually

CONNECTION = "shop-octo"


def demo_settings(
    base_url: str,
    secrets_key: str,
    *,
    password: str = DEMO.password,
    language: str = "nl",
    booking: BookingOptions | None = None,
    octopus: OctopusOptions | None = None,
    system: str = "octopus",
    shop: ShopConnection | None = None,
) -> ConnectionSettings:
    """The sandbox's demo dossier as a connection's ledger; the shop a CCV Shop unless given."""
    box = SecretBox(secrets_key)
    return ConnectionSettings(
        merchant=Merchant(name="Demo Webshop", contact_email="shop@example.nl", language=language),
        shop=shop or ShopConnection(system="ccvshop", base_url="https://shop.example.nl"),
        ledger=LedgerConnection(
            system=system,
            base_url=base_url,
            dossier_id=str(DEMO.dossier_id),
            credentials={
                "software_house_uuid": box.encrypt(DEMO.software_house_uuid),
                "username": box.encrypt(DEMO.user),
                "password": box.encrypt(password),
            },
            booking=booking or demo_booking(),
            octopus=(octopus or demo_octopus()) if system == "octopus" else None,
        ),
    )


def settings_event(
    settings: ConnectionSettings, version: int = 1, connection_id: str = CONNECTION
) -> ConnectionSettingsEvent:
    return ConnectionSettingsEvent.of(connection_id, settings, version)


__all__ = [
    "CONNECTION",
    "BookingMode",
    "demo_booking",
    "demo_octopus",
    "demo_settings",
    "eventually",
]
