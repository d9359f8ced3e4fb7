"""The demo's Octopus ledger side: the sandbox's demo login, encrypted, on one of its
dossiers, with the demo VAT mapping and journal — shared by every merchant that books in
Octopus (the coffee roaster, the PrestaShop and Bol.com merchants) and the e2e harnesses."""

from __future__ import annotations

from koppel_chassis import SecretBox
from koppel_contracts import BookingOptions, LedgerConnection
from koppel_sandbox_octopus import DEMO, demo_booking, demo_octopus


def demo_octopus_ledger(
    box: SecretBox,
    base_url: str,
    *,
    dossier_id: int = DEMO.dossier_id,
    password: str = DEMO.password,
    booking: BookingOptions | None = None,
) -> LedgerConnection:
    return LedgerConnection(
        system="octopus",
        base_url=base_url,
        dossier_id=str(dossier_id),
        credentials={
            "software_house_uuid": box.encrypt(DEMO.software_house_uuid),
            "username": box.encrypt(DEMO.user),
            "password": box.encrypt(password),
        },
        booking=booking or demo_booking(),
        octopus=demo_octopus(),
    )
