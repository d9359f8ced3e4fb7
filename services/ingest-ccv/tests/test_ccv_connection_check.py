"""The CCV connection test against the sandbox: what the merchant can fix, in their
language. (Unreachable, TLS, redirect and "not a shop" are in the shop contract.)"""

from __future__ import annotations

from koppel_chassis import SecretBox, generate_key
from koppel_contracts import ConnectionSettings, Language

from .ccv_harness import CcvHarness


def _with_shop(settings: ConnectionSettings, **changes: object) -> ConnectionSettings:
    return settings.model_copy(update={"shop": settings.shop.model_copy(update=changes)})


async def test_a_working_key_lists_the_paid_flag_and_the_status_ids(harness: CcvHarness) -> None:
    dutch = await harness.adapter.check_connection(harness.settings(), Language.NL)
    english = await harness.adapter.check_connection(harness.settings(), Language.EN)
    assert dutch.ok and "werkt" in dutch.message and harness.url in dutch.message
    assert english.ok and "works" in english.message
    assert [s.code for s in dutch.states] == ["paid", *(str(n) for n in range(1, 15))]
    assert [s.code for s in dutch.states if s.bookable_by_default] == ["paid"]
    names = {s.code: (s.name, e.name) for s, e in zip(dutch.states, english.states, strict=True)}
    assert names["5"] == ("Verzonden", "Sent") and names["8"] == ("Geannuleerd", "Cancelled")


async def test_the_api_root_as_address_works_too(harness: CcvHarness) -> None:
    at_root = _with_shop(harness.settings(), base_url=f"{harness.url}/api/rest/v1")
    assert (await harness.adapter.check_connection(at_root, Language.NL)).ok


async def test_a_key_without_a_readable_secret_is_named_before_calling_the_shop(
    harness: CcvHarness,
) -> None:
    before = await harness.requests()
    missing = _with_shop(harness.settings(), credentials={})
    foreign = SecretBox(generate_key()).encrypt(harness.key.secret)
    unreadable = _with_shop(harness.settings(), credentials={"api_secret": foreign})
    for settings, detail in ((missing, "missing"), (unreadable, "unreadable")):
        result = await harness.adapter.check_connection(settings, Language.EN)
        assert result.problem == "settings_incomplete" and detail in result.message
    assert await harness.requests() == before


async def test_an_unsigned_answer_is_not_taken_for_the_shop(harness: CcvHarness) -> None:
    await harness.control.configure(sign_responses=False)
    result = await harness.adapter.check_connection(harness.settings(), Language.NL)
    assert result.problem == "not_the_shop_api"
    assert "not signed" in result.details["detail"]


async def test_a_failing_shop_is_told_apart_from_a_wrong_key(harness: CcvHarness) -> None:
    body = {"code": "500.10", "status": 500, "developermessage": "Unknown error"}
    await harness.control.inject_fault(500, path="/api/rest/v1/", body=body)
    result = await harness.adapter.check_connection(harness.settings(), Language.NL)
    assert result.problem == "shop_error" and "Unknown error" in result.message
