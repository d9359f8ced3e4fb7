"""The dashboard in a real headless Chromium (Debian's, driven by Playwright) against the
processes of the end-to-end system: a merchant logs in, sees a failed order with its
reason, reads its timeline, presses Verwerk, tests the ledger connection (ledger-octopus
answers with its accounts and VAT codes), fixes the VAT mapping in Configuratie against
them, sees each service take the new version and the order booked in its timeline, tests
the shop connection, runs an import dry run, sees Rapportage, and reports the problem to
support (by SMTP); another merchant's connection and order stay out of reach by URL, and a
form without its CSRF token is refused.

The merchant gets a CCV Shop sandbox and an Octopus sandbox of its own
(`dashboard_harness.py`), so nothing here touches the demo merchants the other end-to-end
modules use. Screenshots of every page go to `.local/artefacts/dashboard/`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from koppel_chassis import SecretBox
from koppel_contracts import (
    CONNECTIONS,
    LEDGER_COMMANDS,
    OPS_REQUESTS,
    SHOP_ORDERS,
    ConnectionRequest,
    ConnectionSettingsEvent,
    LedgerCommand,
    LedgerCommandKind,
    RequestKind,
)
from koppel_demo.demo_data import place_paid_order, publish_demo_connection, wait_until_connected
from koppel_demo.processes import ProcessGroup
from koppel_demo.system import SystemConfig
from koppel_sandbox_ccvshop import CcvShopControl
from koppel_sandbox_octopus import DEMO
from koppel_testkit import (
    Received,
    SmtpCatcher,
    eventually,
    make_order_event,
    publish_raw,
    read_events,
)
from playwright.async_api import Browser, expect

from .dashboard_harness import (
    A_EMAIL,
    B_EMAIL,
    CCV_KEY,
    MERCHANT_EMAIL,
    A,
    B,
    browser,
    connection_a,
    connection_b,
    log_in,
    parts,
    shot,
    until_shown,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
__all__ = ["browser", "parts"]  # fixtures, used by name


async def requests_of(config: SystemConfig, kind: RequestKind) -> list[ConnectionRequest]:
    """Merchant A's requests of one kind on ops.requests.v1 (one partition: in order)."""

    async def found() -> list[ConnectionRequest]:
        every = await read_events(
            config.kafka_bootstrap,
            config.isolation + OPS_REQUESTS.name,
            ConnectionRequest,
            timeout=2.0,
        )
        return [r for r in every if r.connection_id == A and r.kind is kind]

    return await eventually(found, timeout=20)


async def test_the_merchant_dashboard_in_a_real_browser(
    config: SystemConfig,
    system: ProcessGroup,
    parts: dict[str, Any],
    smtp: SmtpCatcher,
    browser: Browser,
) -> None:
    url = parts["url"]
    await publish_demo_connection(config, connection_a(config, parts), A)
    await publish_demo_connection(config, connection_b(), B)
    await wait_until_connected(config, A, parts["ccvshop"])
    async with CcvShopControl(config.url(parts["ccvshop"])) as shop:
        coffee = await place_paid_order(shop, {})  # coffee at 9 %: no ledger account
        mill = await place_paid_order(
            shop, {"rows": [{"product_name": "Molen", "count": 1, "price": "89.00", "tax": 21}]}
        )
    failed_number, failed_ref = str(coffee["ordernumber_full"]), str(coffee["id"])
    tea = make_order_event(connection_id=B)
    await publish_raw(
        config.kafka_bootstrap,
        config.isolation + SHOP_ORDERS.name,
        tea.model_dump_json().encode(),
        f"{B}:{tea.order_ref}".encode(),
    )

    # The login page, then A's connections: only A's own.
    page = await (await browser.new_context(locale="nl-NL")).new_page()
    await page.goto(f"{url}/login")
    await shot(page, "01-login")
    page = await log_in(browser, url, A_EMAIL)
    assert await page.get_by_text(A).count() == 1 and await page.get_by_text(B).count() == 0
    await shot(page, "02-koppelingen")

    # Fouten: the failed order with the ledger's reason and suggestion.
    failures = f"{url}/connections/{A}/failures"
    await until_shown(page, failures, failed_number)
    card = page.locator(f'li[data-order="{failed_number}"]')
    await expect(card).to_contain_text("Mislukt")
    await expect(card).to_contain_text("Voor 9% btw")
    await expect(card).to_contain_text("Stel in de koppeling een grootboekrekening")
    await shot(page, "03-fouten")
    await page.set_viewport_size({"width": 390, "height": 844})
    await shot(page, "03-fouten-telefoon")
    await page.set_viewport_size({"width": 1280, "height": 800})

    # The notifier told the merchant by mail too (and that mail is ours to collect).
    async def notified() -> list[Received]:
        return [m for m in smtp.received if m.rcpt_tos == [MERCHANT_EMAIL]]

    [notice] = await eventually(notified, timeout=60)
    assert failed_number in notice.body

    # Its timeline: received, the booking attempt with Octopus's answer, its payloads.
    await card.get_by_role("link", name=failed_number).click()
    await expect(page.get_by_text("Bestelling ontvangen (revisie 1)")).to_be_visible()
    await expect(page.get_by_text("Boeking mislukt (revisie 1)")).to_be_visible()
    await expect(
        page.get_by_role("link", name="Bekijk in de webshop (CCV Shop)")
    ).to_have_attribute("href", f"{config.url(parts['ccvshop'])}/api/rest/v1/orders/{failed_ref}")
    await page.locator("ol.timeline details summary").first.click()
    await expect(page.locator("ol.timeline pre").first).to_contain_text(failed_number)
    await shot(page, "04-tijdlijn")

    # Verwerk: the retry command goes to the ledger that owns the order (which, once it acts
    # on ledger.commands.v1, tries again at once; without the 9 % account it fails again).
    await page.goto(failures)
    await (
        page.locator(f'li[data-order="{failed_number}"]')
        .get_by_role("button", name="Verwerk")
        .click()
    )
    await expect(
        page.get_by_text(f"Verwerk is gevraagd voor bestelling {failed_number}")
    ).to_be_visible()
    commands = await read_events(
        config.kafka_bootstrap, config.isolation + LEDGER_COMMANDS.name, LedgerCommand
    )
    assert [(c.kind, c.connection_id, c.order_ref) for c in commands if c.connection_id == A] == [
        (LedgerCommandKind.RETRY_ORDER, A, failed_ref)
    ]
    await page.goto(f"{url}/connections/{A}/orders/{failed_ref}")
    await expect(page.get_by_text(f"Verwerk gevraagd door {A_EMAIL}")).to_be_visible()

    # "Test verbinding boekhouding": ledger-octopus answers through Kafka with the dossier's
    # accounts and VAT codes; the settings page offers those and checks the mapping.
    await page.goto(f"{url}/connections/{A}/settings")
    await page.get_by_role("button", name="Test verbinding boekhouding").click()
    answer = page.locator('section.answer[data-component="ledger-octopus"]')
    await expect(answer).to_contain_text("Btw-codes", timeout=30_000)
    await shot(page, "05-test-boekhouding")

    # Configuratie: add 9 % -> the dossier's revenue account and VAT code, save.
    await page.goto(f"{url}/connections/{A}/settings")
    await expect(page.get_by_text("Gecontroleerd tegen wat ledger-octopus meldde")).to_be_visible()
    rows = page.locator("#vat-accounts tbody tr")
    empty = rows.nth(await rows.count() - 2)
    await empty.locator("input[name$='-rate']").fill("9")
    await empty.locator("select[name$='-account']").select_option(str(DEMO.accounts["revenue_9"]))
    await empty.locator("select[name$='-code']").select_option(DEMO.vat_codes["9"])
    await shot(page, "06-configuratie")
    await page.get_by_role("button", name="Opslaan").click()
    await expect(page.get_by_text("Opgeslagen als versie")).to_be_visible()
    events = await read_events(
        config.kafka_bootstrap,
        config.isolation + CONNECTIONS.name,
        ConnectionSettingsEvent,
        at_least=2,
    )
    saved = [e for e in events if e.connection_id == A][-1]
    assert any(
        m.vat_rate == 9 and m.vat_code == DEMO.vat_codes["9"]
        for m in saved.settings.ledger.booking.vat_accounts
    )
    password = saved.settings.ledger.credentials["password"]
    assert SecretBox(config.secrets_key).decrypt(password).get_secret_value() == DEMO.password
    # Each service says when it has the new version (config.applied.v1).
    await until_shown(
        page,
        f"{url}/connections/{A}/settings",
        "heeft de huidige versie",
        '#applied tr[data-component="ledger-octopus"]',
    )
    await shot(page, "07-configuratie-opgeslagen")

    # New settings resume the orders they may fix: the coffee order is booked now, and its
    # timeline shows the failed attempt, the request, the booking and its check.
    order_url = f"{url}/connections/{A}/orders/{failed_ref}"
    await until_shown(page, order_url, "Gecontroleerd: klopt", "ol.timeline")
    timeline = await page.locator("ol.timeline").inner_text()
    assert timeline.index("Boeking mislukt") < timeline.index("Verwerk gevraagd")
    assert timeline.index("Verwerk gevraagd") < timeline.index("Geboekt (revisie 1)")
    await expect(page.locator("h1 .badge")).to_have_text("Geboekt")
    await shot(page, "08-tijdlijn-geboekt")

    # "Test verbinding webshop" asks ingest-ccv through Kafka; the page polls (htmx) for the
    # answer until it is there.
    await page.goto(f"{url}/connections/{A}/settings")
    await page.get_by_role("button", name="Test verbinding webshop").click()
    await expect(page.locator("#answers")).to_be_visible()
    [asked] = await requests_of(config, RequestKind.TEST_SHOP)
    assert asked.settings is not None and asked.settings.shop.account_id == CCV_KEY
    shop_answer = page.locator('section.answer[data-component="ingest-ccv"]')
    await expect(shop_answer).to_contain_text("Werkt", timeout=30_000)  # swapped in by htmx
    await expect(shop_answer).to_contain_text("Statussen van de webshop")
    await shot(page, "09-test-webshop")

    # Migratie: a dry run over a date range, answered by the shop's ingest service.
    await page.goto(f"{url}/connections/{A}/migration")
    await page.get_by_label("Van").fill("2026-01-01")
    await page.get_by_role("button", name="Start").click()
    await expect(page.locator("#answers")).to_be_visible()
    [asked] = await requests_of(config, RequestKind.MIGRATE)
    assert (asked.dry_run, str(asked.since)) == (True, "2026-01-01")
    shop_total = Decimal(str(coffee["total_price"])) + Decimal(str(mill["total_price"]))
    euros = "€ " + f"{shop_total:.2f}".replace(".", ",")
    progress = page.locator('section.answer[data-component="ingest-ccv"]')
    await expect(progress).to_contain_text("Klaar", timeout=60_000)  # progress, then done
    facts = await progress.locator("dd").all_inner_texts()
    assert facts[:2] == ["2", "0"], "both orders found, none published in a dry run"
    await expect(progress).to_contain_text(euros)
    await shot(page, "10-migratie")

    # Rapportage: the booked order on both sides, every paid order accounted for.
    report = f"{url}/connections/{A}/report"
    # Both booked, and the ledger's read-back of both in: the same total on both sides.
    await until_shown(page, report, euros, "#report tfoot td:nth-child(7)")
    totals = await page.locator("#report tfoot td").all_inner_texts()
    assert totals[1:5] == ["2", "2", "0", "0"], "received, booked, waiting, failed"
    assert totals[5] == euros
    await expect(page.locator("#completeness")).to_contain_text("2 van 2 verantwoord")
    await expect(page.locator("#completeness")).to_contain_text("alles geboekt")
    await shot(page, "11-rapportage")

    # Meld probleem: a case with the timeline, mailed to support.
    await page.goto(f"{url}/connections/{A}/orders/{failed_ref}")
    await page.get_by_text("Meld probleem").first.click()
    await page.get_by_label("Wat gaat er mis?").fill("Waarom mislukte de koffie eerst?")
    await page.get_by_role("button", name="Meld probleem").click()
    await expect(page.get_by_text("Uw melding")).to_be_visible()
    await shot(page, "12-melding")

    async def reported() -> list[Received]:
        return [m for m in smtp.received if m.rcpt_tos == [parts["support"]]]

    [case_mail] = await eventually(reported, timeout=30)
    assert (
        failed_number in case_mail.subject and "Waarom mislukte de koffie eerst?" in case_mail.body
    )
    assert "enc:v1:" not in case_mail.message.as_string()
    support = await log_in(browser, url, parts["support"])
    await support.goto(f"{url}/support/cases")
    await expect(support.locator("#cases")).to_contain_text(failed_number)
    await shot(support, "13-support")

    # Tenant isolation: B's connection and order are not there for A, whatever the URL.
    for path in (
        f"/connections/{B}/failures",
        f"/connections/{B}/orders/{tea.order_ref}",
        f"/connections/{B}/settings",
    ):
        answer = await page.goto(url + path)
        assert answer is not None and answer.status == 404, path
        await expect(page.get_by_text("Deze pagina bestaat niet")).to_be_visible()
    await shot(page, "14-geen-toegang")
    owner = await log_in(browser, url, B_EMAIL)
    await until_shown(owner, f"{url}/connections/{B}/failures", tea.order.order_number)

    # CSRF: the settings form with its token taken out is refused; nothing is published.
    await page.goto(f"{url}/connections/{A}/settings")
    await page.evaluate(
        "document.querySelectorAll('input[name=csrf_token]').forEach(i => i.remove())"
    )
    await page.get_by_role("button", name="Opslaan").click()
    await expect(page.get_by_text("Het formulier is verlopen")).to_be_visible()
    await shot(page, "15-csrf-geweigerd")
    events = await read_events(
        config.kafka_bootstrap,
        config.isolation + CONNECTIONS.name,
        ConnectionSettingsEvent,
        at_least=2,
        settle=2.0,
    )
    assert [e.version for e in events if e.connection_id == A][-1] == saved.version
    # Every mail of this merchant arrived here, once: nothing is left for the next module.
    mine = ([MERCHANT_EMAIL], [parts["support"]])
    ours = [m for m in await smtp.settled(3.0) if m.rcpt_tos in mine]
    assert len(ours) == 2
