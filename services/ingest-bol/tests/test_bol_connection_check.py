"""The bol connection test against the sandbox: what the merchant can fix, in their
language. (Unreachable, TLS, redirect and "not bol" are in the shop contract.)"""

from __future__ import annotations

from koppel_chassis import SecretBox, generate_key
from koppel_contracts import ConnectionSettings, Language

from .bol_harness import BolHarness


def _with_shop(settings: ConnectionSettings, **changes: object) -> ConnectionSettings:
    return settings.model_copy(update={"shop": settings.shop.model_copy(update=changes)})


async def test_working_credentials_list_the_two_triggers_in_the_merchants_language(
    harness: BolHarness,
) -> None:
    dutch = await harness.adapter.check_connection(harness.settings(), Language.NL)
    english = await harness.adapter.check_connection(harness.settings(), Language.EN)
    assert dutch.ok and "werkt" in dutch.message and harness.credentials.client_id in dutch.message
    assert english.ok and "works" in english.message
    assert [(s.code, s.bookable_by_default) for s in dutch.states] == [
        ("paid", True),
        ("shipped", False),
    ]
    assert english.states[1].name.startswith("Shipped")


async def test_missing_or_unreadable_credentials_are_named_before_calling_bol(
    harness: BolHarness,
) -> None:
    before = await harness.requests()
    missing = _with_shop(harness.settings(), credentials={})
    foreign = SecretBox(generate_key()).encrypt(harness.credentials.client_secret)
    unreadable = _with_shop(harness.settings(), credentials={"client_secret": foreign})
    for settings, detail in ((missing, "missing"), (unreadable, "unreadable")):
        result = await harness.adapter.check_connection(settings, Language.EN)
        assert result.problem == "settings_incomplete" and detail in result.message
    assert await harness.requests() == before


async def test_a_wrong_secret_and_an_inactive_account_are_told_apart(harness: BolHarness) -> None:
    wrong = _with_shop(
        harness.settings(), credentials={"client_secret": harness.box.encrypt("not-it")}
    )
    refused = await harness.adapter.check_connection(wrong, Language.NL)
    assert refused.problem == "credentials_refused" and "invalid_client" in refused.message
    await harness.control.set_account_active(False)
    inactive = await harness.adapter.check_connection(harness.settings(), Language.NL)
    assert inactive.problem == "permission_missing"
    assert "Account is not active" in inactive.message and inactive.suggestion


async def test_a_failing_bol_is_told_apart_from_wrong_credentials(harness: BolHarness) -> None:
    await harness.control.inject_fault(
        500, path="^/token$", headers={"content-type": "text/html"}, body="<html>500</html>"
    )
    result = await harness.adapter.check_connection(harness.settings(), Language.EN)
    assert result.problem == "shop_error" and "500" in result.message


async def test_an_api_that_does_not_speak_v10_is_not_taken_for_bol(harness: BolHarness) -> None:
    adapter = harness.new_adapter()
    adapter.settings = harness.service_settings(media_type="application/vnd.retailer.v9+json")
    result = await adapter.check_connection(harness.settings(), Language.EN)
    assert result.problem == "not_the_shop_api" and "Not Acceptable" in result.message
