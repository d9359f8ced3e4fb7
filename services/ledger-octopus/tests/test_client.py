"""The Octopus client against the sandbox: tokens, classification, retries, counting."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from koppel_chassis import CredentialsError, PermanentError, SecretBox, TransientError
from koppel_ledger import metered
from koppel_ledger_octopus.account import ClientRegistry, OctopusAccount
from koppel_ledger_octopus.client import ClientOptions, OctopusClient
from koppel_sandbox_octopus import DEMO

from .helpers import demo_settings

D = DEMO.dossier_id
OPTIONS = ClientOptions(
    timeout_seconds=1.0, max_attempts=3, max_retry_seconds=3, initial_backoff=0.01, max_backoff=0.05
)


@pytest.fixture
async def client_for(octopus, secrets_key):
    made: list[OctopusClient] = []

    def make(**options) -> OctopusClient:
        settings = demo_settings(octopus.url, secrets_key, **options)
        client = OctopusClient(
            OctopusAccount.from_settings(settings), SecretBox(secrets_key), options=OPTIONS
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


async def test_logs_in_with_two_tokens_and_reads_reference_data(octopus, client_for) -> None:
    client = client_for()
    with metered() as meter:
        years = await client.bookyears()
        codes = await client.vat_codes()
    assert meter.operations == ["authenticate", "connect_dossier", "bookyears", "vat_codes"]
    assert {y["bookyearDescription"] for y in years} >= {"2026"}
    percentages = {c["code"]: c["basePercentage"] for c in codes}
    assert percentages["21"] == Decimal("21.0") and percentages["9"] == Decimal("9.0")


async def test_an_expired_token_means_one_new_login(octopus, client_for) -> None:
    client = client_for()
    await client.bookyears()
    await octopus.control.expire_tokens()
    with metered() as meter:
        await client.bookyears()
    assert meter.operations == ["bookyears", "authenticate", "connect_dossier", "bookyears"]


async def test_a_refused_login_is_a_credentials_error(octopus, client_for) -> None:
    client = client_for(password="not-the-password")
    with pytest.raises(CredentialsError, match="Ongeldige gebruikersnaam of wachtwoord"):
        await client.bookyears()


async def test_orders_waiting_for_a_refused_login_do_not_log_in_again(octopus, client_for) -> None:
    """A batch books a connection's orders side by side: one failed login, not one per
    order (an account may lock after a few). A new client (new settings) tries again."""
    client = client_for(password="not-the-password")
    with metered() as meter:
        answers = await asyncio.gather(
            *(client.bookyears() for _ in range(4)), return_exceptions=True
        )
    assert all(isinstance(a, CredentialsError) for a in answers)
    assert meter.operations == ["authenticate"]
    with metered() as meter:
        with pytest.raises(CredentialsError):
            await client_for(password="not-the-password").bookyears()
    assert meter.operations == ["authenticate"], "a fresh client logs in again"


async def test_a_password_changed_while_logged_in_is_a_credentials_error(
    octopus, client_for
) -> None:
    client = client_for()
    await client.bookyears()
    await octopus.control.set_password(DEMO.user, "new")  # drops the user's tokens too
    with pytest.raises(CredentialsError):
        await client.bookyears()


async def test_a_403_on_a_dossier_call_is_not_about_credentials_and_keeps_octopus_words(
    octopus, client_for
) -> None:
    # What a 403 means (journal closed, in use, invoicing module off) is not told by its
    # wording: the adapter asks Octopus. The client only keeps status and words.
    client = client_for()
    await octopus.control.add_fault(
        status=403,
        path="/vatcodes$",
        times=1,
        body={"errorCode": 2006, "errorMessage": "Dagboek is afgesloten"},
    )
    with pytest.raises(PermanentError, match="Dagboek is afgesloten") as refused:
        await client.vat_codes()
    assert refused.value.status == 403


async def test_reads_are_retried_and_creates_are_sent_once(octopus, client_for) -> None:
    client = client_for()
    await client.bookyears()
    await octopus.control.add_fault(status=503, path="/bookyears$", times=2)
    with metered() as meter:
        assert await client.bookyears()
    assert meter.operations == ["bookyears"] * 3

    await octopus.control.add_fault(status=503, path="/invoices$", method="POST", times=1)
    with metered() as meter, pytest.raises(TransientError):
        await client.create_invoice({"anything": 1})
    assert meter.operations == ["create_invoice"]


async def test_a_timeout_is_transient(octopus, client_for) -> None:
    client = client_for()
    await client.bookyears()
    await octopus.control.add_fault(timeout=True, path="/vatcodes$", times=5)
    with pytest.raises(TransientError):
        await client.vat_codes()
    await octopus.control.clear_faults()


async def test_octopus_input_errors_are_permanent_with_octopus_words(octopus, client_for) -> None:
    client = client_for()
    with pytest.raises(PermanentError, match="Relatie bestaat niet"):
        await client.put_relation({"relationIdentificationServiceData": {"relationKey": {"id": 9}}})


async def test_the_registry_replaces_a_client_when_the_login_changes(octopus, secrets_key) -> None:
    registry = ClientRegistry(SecretBox(secrets_key), OPTIONS)
    try:
        first_settings = demo_settings(octopus.url, secrets_key)
        first = registry.get("c1", first_settings)
        same = registry.get("c1", demo_settings(octopus.url, secrets_key))
        first = registry.get("c1", first_settings)
        # Encryption is randomised, so re-published identical settings differ in ciphertext:
        # a new client then, which is harmless (one login).
        assert same is first or same.account.fingerprint != first.account.fingerprint
        assert registry.get("c1", first_settings) is first
        changed = registry.get("c1", demo_settings(octopus.url, secrets_key, password="x"))
        assert changed is not first
        registry.drop("c1")
        assert registry.get("c1", demo_settings(octopus.url, secrets_key)) is not changed
    finally:
        await registry.aclose()
