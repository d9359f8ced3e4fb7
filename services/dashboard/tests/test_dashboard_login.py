"""Accounts, sessions and login limits, on the real database."""

from __future__ import annotations

import pytest
from koppel_dashboard.accounts import AccountError, AccountStore, Role
from koppel_dashboard.pages_auth import safe_next

from .dashboard_support import PASSWORD, csrf_of, login


async def test_passwords_are_stored_as_argon2id_hashes_and_checked(mongo_db) -> None:
    store = AccountStore(mongo_db["accounts"])
    await store.create("Jan@Deboon.NL", "een lang wachtwoord", Role.MERCHANT, ["deboon"])
    doc = await mongo_db["accounts"].find_one({"_id": "jan@deboon.nl"})
    assert doc["password_hash"].startswith("$argon2id$")
    assert "een lang wachtwoord" not in str(doc)
    assert await store.authenticate("jan@deboon.nl", "een lang wachtwoord") is not None
    assert await store.authenticate("JAN@deboon.nl", "een lang wachtwoord") is not None
    assert await store.authenticate("jan@deboon.nl", "een lang wachtwoorD") is None
    assert await store.authenticate("niemand@deboon.nl", "een lang wachtwoord") is None
    await store.set_active("jan@deboon.nl", False)
    assert await store.authenticate("jan@deboon.nl", "een lang wachtwoord") is None


async def test_accounts_refuse_short_passwords_duplicates_and_merchants_without_connection(
    mongo_db,
) -> None:
    store = AccountStore(mongo_db["accounts"])
    with pytest.raises(AccountError, match="12 characters"):
        await store.create("a@b.nl", "kort", Role.SUPPORT)
    with pytest.raises(AccountError, match="at least one connection"):
        await store.create("a@b.nl", "lang genoeg wachtwoord", Role.MERCHANT, [])
    await store.create("a@b.nl", "lang genoeg wachtwoord", Role.SUPPORT)
    with pytest.raises(AccountError, match="exists already"):
        await store.create("A@b.nl", "lang genoeg wachtwoord", Role.SUPPORT)


async def test_the_session_cookie_is_signed_httponly_and_samesite(dashboard, client) -> None:
    browser = client()
    answer = await login(browser, "a@deboon.nl")
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"].lower()
    assert "koppel_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    # An altered cookie is no session at all.
    value = browser.cookies["koppel_session"]
    browser.cookies.set("koppel_session", value[:-4] + "AAAA")
    assert (await browser.get("/connections")).status_code == 303


async def test_logging_out_and_disabling_end_the_session_at_once(dashboard, client) -> None:
    browser = client()
    await login(browser, "a@deboon.nl")
    assert (await browser.get("/connections")).status_code == 200
    await AccountStore(dashboard.db["accounts"]).set_active("a@deboon.nl", False)
    answer = await browser.get("/connections")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    await AccountStore(dashboard.db["accounts"]).set_active("a@deboon.nl", True)

    await login(browser, "a@deboon.nl")
    page = await browser.get("/connections")
    assert page.status_code == 200
    await browser.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert (await browser.get("/connections")).status_code == 303
    assert await dashboard.db["sessions"].count_documents({"account": "a@deboon.nl"}) == 0


async def test_failed_logins_are_limited_per_account_even_with_the_right_password_after(
    dashboard, client
) -> None:
    browser = client()
    for _ in range(5):
        wrong = await login(browser, "a@deboon.nl", "not the password at all")
        assert wrong.status_code == 401
        assert "E-mailadres of wachtwoord klopt niet." in wrong.text
    blocked = await login(browser, "a@deboon.nl", PASSWORD)
    assert blocked.status_code == 429
    assert "Te veel mislukte pogingen" in blocked.text
    # Another account from the same address is not blocked (the address limit is higher).
    assert (await login(client(), "b@thee.nl")).status_code == 303


async def test_pages_need_a_login_and_bring_you_back_after_it(dashboard, client) -> None:
    browser = client()
    answer = await browser.get("/connections/deboon/report?period=week")
    assert answer.status_code == 303
    assert (
        answer.headers["location"] == "/login?next=%2Fconnections%2Fdeboon%2Freport%3Fperiod%3Dweek"
    )
    page = await browser.get(answer.headers["location"])
    back = await browser.post(
        "/login",
        data={
            "email": "a@deboon.nl",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "/connections/deboon/report?period=week",
        },
    )
    assert back.headers["location"] == "/connections/deboon/report?period=week"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/connections/x/failures", "/connections/x/failures"),
        ("https://evil.example/", "/connections"),
        ("//evil.example/x", "/connections"),
        ("javascript:alert(1)", "/connections"),
        (None, "/connections"),
    ],
)
def test_after_login_only_a_path_on_this_site_is_followed(target, expected) -> None:
    assert safe_next(target) == expected


async def test_english_for_whoever_chooses_it(dashboard, client) -> None:
    browser = client()
    await login(browser, "help@koppel.test")
    await browser.get("/lang/en?next=/connections")
    page = await browser.get("/connections")
    assert "Connections" in page.text and 'lang="en"' in page.text
    await browser.get("/lang/nl")
    assert "Koppelingen" in (await browser.get("/connections")).text
