"""The example connection files book correctly: their VAT mapping (VAT codes of the rate's
percentage, accounts that exist) takes a mixed-rate order in the ledger's sandbox, with
only the account's address and credentials swapped for the sandbox's."""

from __future__ import annotations

from pathlib import Path

from koppel_chassis import SecretBox
from koppel_cli.settings_file import load_connection_file
from koppel_ledger import State
from koppel_ledger.testing import CONNECTION, Driver
from koppel_ledger_octopus import LedgerOctopusSettings
from koppel_ledger_octopus.adapter import OctopusAdapter
from koppel_ledger_snelstart import LedgerSnelStartSettings
from koppel_ledger_snelstart.adapter import SnelStartAdapter
from koppel_sandbox_kit import serve
from koppel_sandbox_octopus import DEMO as OCTOPUS
from koppel_sandbox_octopus import OctopusState
from koppel_sandbox_octopus import create_app as octopus_app
from koppel_sandbox_snelstart import DEMO as SNELSTART
from koppel_sandbox_snelstart import UNLIMITED, SnelStartState
from koppel_sandbox_snelstart import create_app as snelstart_app
from koppel_testkit import charge, line, make_order, make_order_event

EXAMPLES = Path(__file__).parents[2] / "cli" / "examples"


def _order():
    order = make_order(
        order_id="ex-1",
        lines=[line("Espressomachine", "1", "449.00", "21"), line("Bonen", "2", "12.50", "9")],
        shipping=charge("Verzending", "4.95", "21"),
    )
    return make_order_event(order, connection_id=CONNECTION)


async def test_the_octopus_example_books_a_mixed_rate_order(secrets_key, mongo_db) -> None:
    box = SecretBox(secrets_key)
    example = load_connection_file(EXAMPLES / "connection.example.yaml", box).settings
    async with serve(octopus_app(OctopusState.demo())) as url:
        ledger = example.ledger.model_copy(
            update={
                "base_url": url,
                "dossier_id": str(OCTOPUS.dossier_id),
                "credentials": {
                    "software_house_uuid": box.encrypt(OCTOPUS.software_house_uuid),
                    "username": box.encrypt(OCTOPUS.user),
                    "password": box.encrypt(OCTOPUS.password),
                },
            }
        )
        adapter = OctopusAdapter(LedgerOctopusSettings(), mongo_db, None, box)
        try:
            driver = Driver(adapter)
            await driver.connect(example.model_copy(update={"ledger": ledger}))
            record = await driver.order(_order())
        finally:
            await adapter.aclose()
    assert record.state == State.VERIFIED, record.failure


async def test_the_snelstart_example_books_a_mixed_rate_order(secrets_key) -> None:
    box = SecretBox(secrets_key)
    example = load_connection_file(EXAMPLES / "connection.snelstart.example.yaml", box).settings
    async with serve(snelstart_app(SnelStartState.demo(limits=UNLIMITED))) as url:
        ledger = example.ledger.model_copy(update={"base_url": f"{url}/v2"})
        settings = LedgerSnelStartSettings(subscription_key=SNELSTART.subscription_key)
        adapter = SnelStartAdapter(settings, None, box)
        try:
            driver = Driver(adapter)
            await driver.connect(example.model_copy(update={"ledger": ledger}))
            record = await driver.order(_order())
        finally:
            await adapter.aclose()
    assert record.state == State.VERIFIED, record.failure
    assert record.ledger is not None and record.ledger.number == "WEB-ex-1"
