"""The dashboard on the real broker and database: read models fed from the topics, pages
per role, the commands it publishes, CSRF, tenant isolation, support cases by SMTP."""

from __future__ import annotations

import csv
import io
import json
import re

from koppel_contracts import (
    CONNECTIONS,
    LEDGER_BOOKINGS,
    LEDGER_CHECKS,
    LEDGER_COMMANDS,
    OPS_ALERTS,
    SHOP_ORDERS,
    LedgerCommand,
    LedgerCommandKind,
)
from koppel_testkit import SmtpCatcher, eventually, read_events

from .dashboard_support import (
    booked,
    broken,
    checked,
    csrf_of,
    failed,
    login,
    order_event,
    publish,
    settings_event,
)


async def _seed(kafka_topics, kafka_bootstrap, secrets_key):
    """Two merchants: De Boon (one booked and checked order, one failed) and Thee (one
    waiting order)."""
    ok = order_event("deboon", "1001")
    bad = order_event("deboon", "1002", vat_rate="9", price="24.95")
    tea = order_event("thee", "7001")
    await publish(
        kafka_bootstrap,
        (kafka_topics[CONNECTIONS.name], settings_event("deboon", secrets_key)),
        (kafka_topics[CONNECTIONS.name], settings_event("thee", secrets_key, name="Theehuis")),
        (kafka_topics[SHOP_ORDERS.name], ok),
        (kafka_topics[SHOP_ORDERS.name], bad),
        (kafka_topics[SHOP_ORDERS.name], tea),
        (kafka_topics[LEDGER_BOOKINGS.name], booked(ok)),
        (kafka_topics[LEDGER_CHECKS.name], checked(ok)),
        (kafka_topics[LEDGER_BOOKINGS.name], failed(bad)),
    )
    return ok, bad, tea


async def _wait_for(dashboard, collection: str, count: int) -> None:
    async def there() -> bool:
        return await dashboard.db[collection].count_documents({}) >= count

    await eventually(there, timeout=30)


async def test_a_merchant_sees_a_failed_order_with_its_reason_and_its_timeline(
    kafka_topics, kafka_bootstrap, secrets_key, dashboard, client
) -> None:
    await _seed(kafka_topics, kafka_bootstrap, secrets_key)
    await _wait_for(dashboard, "bookings", 2)
    await _wait_for(dashboard, "shop_orders", 3)
    browser = client()
    assert (await login(browser, "a@deboon.nl")).status_code == 303

    page = await browser.get("/connections")
    assert "deboon" in page.text and "thee" not in page.text

    failures = await browser.get("/connections/deboon/failures")
    assert failures.status_code == 200
    assert "WEB-1002" in failures.text
    assert "Voor 9% btw is geen grootboekrekening ingesteld." in failures.text
    assert "Mislukt" in failures.text
    assert "WEB-1001" not in failures.text, "a booked order needs nobody"

    timeline = await browser.get("/connections/deboon/orders/1001")
    text = timeline.text
    assert "Bestelling ontvangen (revisie 1)" in text
    assert "Geboekt (revisie 1)" in text
    assert "Gecontroleerd: klopt" in text
    assert text.index("Bestelling ontvangen") < text.index("Geboekt (revisie 1)")
    assert "https://deboon.ccvshop.nl/admin/orders/1001" in text
    assert "https://octopus.example/api/dossiers/1234/documents/B-1001" in text


async def test_merchant_a_cannot_open_merchant_bs_connection_or_order_by_editing_the_url(
    kafka_topics, kafka_bootstrap, secrets_key, dashboard, client
) -> None:
    await _seed(kafka_topics, kafka_bootstrap, secrets_key)
    await _wait_for(dashboard, "shop_orders", 3)
    browser = client()
    await login(browser, "a@deboon.nl")
    for path in (
        "/connections/thee/failures",
        "/connections/thee/orders/7001",
        "/connections/thee/report",
        "/connections/thee/report.csv",
        "/connections/thee/settings",
        "/connections/thee/migration",
    ):
        answer = await browser.get(path)
        assert answer.status_code == 404, path
        assert "WEB-7001" not in answer.text and "Theehuis" not in answer.text
    # The same answer as for a connection that does not exist: nothing tells them apart.
    assert (await browser.get("/connections/nope/failures")).status_code == 404
    # Nor can A act on B's order.
    form = csrf_of((await browser.get("/connections/deboon/failures")).text)
    answer = await browser.post("/connections/thee/orders/7001/retry", data={"csrf_token": form})
    assert answer.status_code == 404

    owner = client()
    await login(owner, "b@thee.nl")
    assert "WEB-7001" in (await owner.get("/connections/thee/failures")).text
    support = client()
    await login(support, "help@koppel.test")
    listing = (await support.get("/connections")).text
    assert "deboon" in listing and "thee" in listing


async def test_a_form_post_without_the_csrf_token_is_refused_and_changes_nothing(
    kafka_topics, kafka_bootstrap, secrets_key, dashboard, client
) -> None:
    await _seed(kafka_topics, kafka_bootstrap, secrets_key)
    await _wait_for(dashboard, "bookings", 2)
    browser = client()
    await login(browser, "a@deboon.nl")
    without = await browser.post("/connections/deboon/orders/1002/retry", data={})
    assert without.status_code == 403
    wrong = await browser.post(
        "/connections/deboon/orders/1002/retry", data={"csrf_token": "forged"}
    )
    assert wrong.status_code == 403
    cross_site = await browser.post(
        "/connections/deboon/orders/1002/retry",
        data={"csrf_token": csrf_of((await browser.get("/connections/deboon/failures")).text)},
        headers={"origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    commands = await read_events(
        kafka_bootstrap,
        kafka_topics[LEDGER_COMMANDS.name],
        LedgerCommand,
        at_least=1,
        timeout=2.0,
    )
    assert commands == []
    # Logging in needs the token too (no login CSRF).
    anonymous = client()
    refused = await anonymous.post(
        "/login", data={"email": "a@deboon.nl", "password": "correct horse battery"}
    )
    assert refused.status_code == 403


async def test_verwerk_publishes_a_retry_command_for_the_order_and_shows_it_in_the_timeline(
    kafka_topics, kafka_bootstrap, secrets_key, dashboard, client
) -> None:
    await _seed(kafka_topics, kafka_bootstrap, secrets_key)
    await _wait_for(dashboard, "bookings", 2)
    browser = client()
    await login(browser, "a@deboon.nl")
    page = await browser.get("/connections/deboon/failures")
    answer = await browser.post(
        "/connections/deboon/orders/1002/retry", data={"csrf_token": csrf_of(page.text)}
    )
    assert answer.status_code == 303
    [command] = await read_events(
        kafka_bootstrap, kafka_topics[LEDGER_COMMANDS.name], LedgerCommand, settle=1.0
    )
    assert command.kind is LedgerCommandKind.RETRY_ORDER
    assert (command.connection_id, command.order_ref) == ("deboon", "1002")
    assert command.requested_by == "a@deboon.nl"
    followed = await browser.get(answer.headers["location"])
    assert "Verwerk is gevraagd voor bestelling WEB-1002" in followed.text
    timeline = await browser.get("/connections/deboon/orders/1002")
    assert "Verwerk gevraagd door a@deboon.nl" in timeline.text

    # "Verwerk alle" for a filter: every failed order of the connection since a day.
    page = await browser.get("/connections/deboon/failures?state=failed")
    await browser.post(
        "/connections/deboon/retry",
        data={"csrf_token": csrf_of(page.text), "state": ["failed"], "since": "2026-11-01"},
    )
    commands = await read_events(
        kafka_bootstrap, kafka_topics[LEDGER_COMMANDS.name], LedgerCommand, at_least=2
    )
    # Keyed by the connection alone, on another partition than the order's command.
    [every] = [c for c in commands if c.kind is LedgerCommandKind.RETRY_ORDERS]
    assert every.states == ["failed"] and every.order_ref is None
    assert every.since is not None and every.since.isoformat() == "2026-10-31T23:00:00+00:00"


async def test_meld_probleem_mails_support_the_timeline_with_payloads_and_no_secrets(
    kafka_topics, kafka_bootstrap, secrets_key, dashboard, client, smtp: SmtpCatcher
) -> None:
    await _seed(kafka_topics, kafka_bootstrap, secrets_key)
    await _wait_for(dashboard, "bookings", 2)
    # A settings event on the order's timeline would carry the credentials: the case must
    # mask anything that looks like one.
    browser = client()
    await login(browser, "a@deboon.nl")
    page = await browser.get("/connections/deboon/orders/1002")
    answer = await browser.post(
        "/connections/deboon/orders/1002/report",
        data={"csrf_token": csrf_of(page.text), "message": "Waarom is deze niet geboekt?"},
    )
    assert answer.status_code == 303
    [mail] = await smtp.wait_for(1)
    assert mail.rcpt_tos == ["support@koppel.test"]
    assert "WEB-1002" in mail.subject and "deboon" in mail.subject
    assert "Waarom is deze niet geboekt?" in mail.body
    assert "Voor 9% btw is geen grootboekrekening ingesteld." in mail.body
    [attachment] = list(mail.message.iter_attachments())
    timeline = json.loads(attachment.get_content())
    kinds = [item["kind"] for item in timeline]
    assert kinds == ["order_created", "booking_failed"]
    assert timeline[0]["payload"]["order"]["order_number"] == "WEB-1002"
    raw = mail.message.as_string()
    assert "enc:v1:" not in raw

    support = client()
    await login(support, "help@koppel.test")
    cases = await support.get("/support/cases")
    assert "WEB-1002" in cases.text and "sent" in cases.text
    merchant_view = await browser.get("/support/cases")
    assert merchant_view.status_code == 404, "only support sees the cases"


async def test_failures_show_a_broken_connection_and_held_orders(
    kafka_topics, kafka_bootstrap, secrets_key, dashboard, client
) -> None:
    held_order = order_event("deboon", "1003")
    await publish(
        kafka_bootstrap,
        (kafka_topics[CONNECTIONS.name], settings_event("deboon", secrets_key)),
        (kafka_topics[SHOP_ORDERS.name], held_order),
        (
            kafka_topics[LEDGER_BOOKINGS.name],
            failed(held_order, "Wachtwoord geweigerd", status="held"),
        ),  # type: ignore[arg-type]
        (kafka_topics[OPS_ALERTS.name], broken("deboon")),
    )
    await _wait_for(dashboard, "connection_alerts", 1)
    await _wait_for(dashboard, "bookings", 1)
    browser = client()
    await login(browser, "a@deboon.nl")
    page = (await browser.get("/connections/deboon/failures")).text
    assert "De verbinding is verbroken: Octopus weigert het wachtwoord." in page
    assert "Gepauzeerd" in page and "WEB-1003" in page


async def test_the_settings_page_never_shows_a_credential_back(
    kafka_topics, kafka_bootstrap, secrets_key, dashboard, client
) -> None:
    event = settings_event("deboon", secrets_key)
    await publish(kafka_bootstrap, (kafka_topics[CONNECTIONS.name], event))

    async def stored() -> bool:
        return await dashboard.db["connections"].count_documents({}) == 1

    await eventually(stored)
    browser = client()
    await login(browser, "a@deboon.nl")
    page = (await browser.get("/connections/deboon/settings")).text
    assert "enc:v1:" not in page
    assert "ccv-secret-do-not-show" not in page
    assert event.settings.shop.credentials["api_secret"] not in page
    assert 'name="shop.credentials.api_secret" value=""' in page


async def test_rapportage_accounts_for_every_order_and_exports_decimal_strings(
    kafka_topics, kafka_bootstrap, secrets_key, dashboard, client
) -> None:
    await _seed(kafka_topics, kafka_bootstrap, secrets_key)
    await _wait_for(dashboard, "checks", 1)
    await _wait_for(dashboard, "bookings", 2)
    browser = client()
    await login(browser, "a@deboon.nl")
    query = "period=day&from=2026-11-01&to=2026-11-30"
    page = (await browser.get(f"/connections/deboon/report?{query}")).text
    row = page[page.index('data-period="2026-11-20"') :].split("</tr>")[0]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
    assert cells[:5] == ["2026-11-20", "2", "1", "0", "1"]
    assert cells[5] == "€ 74,10" and cells[6] == "€ 24,20"
    day = page[page.index('data-day="2026-11-20"') :].split("</li>")[0]
    assert "2 van 2 verantwoord" in day and "WEB-1002 Mislukt" in day

    answer = await browser.get(f"/connections/deboon/report.csv?{query}")
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(answer.text)))
    header, day_line = lines[0], next(line for line in lines if line[0] == "2026-11-20")
    assert day_line[header.index("shop_total_incl_vat")] == "74.10"
    assert day_line[header.index("ledger_total_incl_vat")] == "24.20"
    assert day_line[header.index("shop_vat_9")] == "4.12"
    orders = list(
        csv.reader(
            io.StringIO(
                (await browser.get(f"/connections/deboon/report.csv?{query}&level=orders")).text
            )
        )
    )
    assert [o[1:4] for o in orders[1:]] == [
        ["WEB-1001", "1001", "booked"],
        ["WEB-1002", "1002", "failed"],
    ]
