"""Shared pieces of the ledger-snelstart tests: a demo connection to the sandbox."""

from __future__ import annotations

from typing import Any

from koppel_chassis import SecretBox
from koppel_contracts import (
    BookingOptions,
    ConnectionSettings,
    ConnectionSettingsEvent,
    LedgerConnection,
    Merchant,
    ShopConnection,
    SnelStartOptions,
)
from koppel_sandbox_snelstart import DEMO, demo_booking

CONNECTION = "shop-snel"


def demo_settings(
    base_url: str,
    secrets_key: str,
    *,
    koppelsleutel: str = DEMO.main.koppelsleutel,
    language: str = "nl",
    booking: BookingOptions | None = None,
    **options: Any,
) -> ConnectionSettings:
    box = SecretBox(secrets_key)
    return ConnectionSettings(
        merchant=Merchant(name="Demo Webshop", contact_email="shop@example.nl", language=language),
        shop=ShopConnection(system="ccvshop", base_url="https://shop.example.nl"),
        ledger=LedgerConnection(
            system="snelstart",
            base_url=f"{base_url}/v2",
            credentials={"koppelsleutel": box.encrypt(koppelsleutel)},
            booking=booking or demo_booking(),
            snelstart=SnelStartOptions(**options),
        ),
    )


def settings_event(
    settings: ConnectionSettings, version: int = 1, connection_id: str = CONNECTION
) -> ConnectionSettingsEvent:
    return ConnectionSettingsEvent.of(connection_id, settings, version)
