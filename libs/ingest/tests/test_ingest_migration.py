"""Historic imports: the dry run counts and totals without publishing, the real run
publishes once and recognises what the live flow already published; periods are the
merchant's days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from koppel_chassis import SecretBox, generate_key
from koppel_contracts import ConnectionSettings, Language
from koppel_ingest.requests import period, refusal_problems
from koppel_ingest.testing import CONNECTION, Driver

from .test_ingest_runtime import PollOnlyAdapter, Shop, place, settings


def mapped_settings() -> ConnectionSettings:
    data = settings().model_dump(mode="json")
    data["ledger"]["booking"]["vat_accounts"] = [
        {"vat_rate": "9", "ledger_account": "8001", "vat_code": "2"},
        {"vat_rate": "21", "ledger_account": "8000", "vat_code": "1"},
    ]
    return ConnectionSettings.model_validate(data)


async def connected(shop: Shop, chosen: ConnectionSettings) -> Driver:
    driver = Driver(PollOnlyAdapter(shop), box=SecretBox(generate_key()))  # type: ignore[arg-type]
    await driver.connect(chosen)
    return driver


async def test_a_dry_run_counts_and_totals_per_vat_rate_and_publishes_nothing() -> None:
    shop = Shop()
    driver = await connected(shop, mapped_settings())
    for ref in ("1", "2"):
        place(shop, driver, ref, state="paid")
    place(shop, driver, "3")  # not paid: not bookable
    now = driver.clock()
    seen = []

    async def progress(tally) -> None:
        seen.append(tally.orders)

    report = await driver.runtime.migrate(
        CONNECTION,
        now - timedelta(days=1),
        now + timedelta(days=1),
        dry_run=True,
        progress=progress,
    )
    tally = report.tally
    assert (tally.orders, tally.skipped, tally.published, tally.failed) == (3, 1, 0, 0)
    # each order: one line of 24.95 at 9 % -> VAT 2.06; the testkit's order total
    assert tally.vat == {Decimal("9"): Decimal("4.12")}
    assert tally.total_incl_vat == Decimal("49.90")
    assert driver.orders() == [], "a dry run publishes nothing"
    await driver.poll()
    assert len(driver.orders()) == 2, "and keeps nothing that stops the live flow"


async def test_a_real_run_publishes_once_and_recognises_what_the_live_flow_published() -> None:
    shop = Shop()
    driver = await connected(shop, mapped_settings())
    place(shop, driver, "1", state="paid")
    await driver.poll()  # the live flow publishes order 1
    place(shop, driver, "2", state="paid")
    now = driver.clock()
    window = (now - timedelta(days=1), now + timedelta(days=1))
    report = await driver.runtime.migrate(CONNECTION, *window)
    assert (report.tally.published, report.tally.recognised) == (1, 1)
    assert sorted(e.order_ref for e in driver.orders()) == ["1", "2"]
    again = await driver.runtime.migrate(CONNECTION, *window)
    assert (again.tally.published, again.tally.recognised) == (0, 2)
    assert len(driver.orders()) == 2


async def test_a_dry_run_names_what_the_ledger_would_refuse() -> None:
    shop = Shop()
    driver = await connected(shop, settings())  # no VAT rate mapped to an account
    place(shop, driver, "1", state="paid")
    now = driver.clock()
    report = await driver.runtime.migrate(
        CONNECTION, now - timedelta(days=1), now + timedelta(days=1), dry_run=True
    )
    assert report.tally.refused == {"unmapped_vat_rate": 1}
    assert report.tally.vat == {}, "a refused order books no VAT"
    (problem,) = refusal_problems(report.tally, Language.NL)
    assert problem.code == "unmapped_vat_rate" and problem.reason.startswith("1 bestelling")
    assert "9" in problem.reason


def test_a_period_is_whole_days_on_the_merchants_clock() -> None:
    start, end = period(date(2026, 7, 1), date(2026, 7, 31), date(2026, 12, 5))
    assert start == datetime(2026, 6, 30, 22, 0, tzinfo=UTC), "summer time: UTC+2"
    assert end == datetime(2026, 7, 31, 22, 0, tzinfo=UTC)
    start, end = period(date(2026, 12, 1), None, date(2026, 12, 5))
    assert (start, end) == (
        datetime(2026, 11, 30, 23, 0, tzinfo=UTC),
        datetime(2026, 12, 5, 23, 0, tzinfo=UTC),
    ), "winter time: UTC+1; without a last day, up to and including today"
