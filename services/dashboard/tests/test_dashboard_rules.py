"""Pure rules of the dashboard: order states, VAT per rate, reports and CSV, masking,
the settings form, links, texts in both languages."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import koppel_dashboard
import pytest
from koppel_chassis import SecretBox, generate_key
from koppel_contracts import OrderDiscount
from koppel_dashboard.amounts import rate_key, shop_vat_per_rate
from koppel_dashboard.formatting import money
from koppel_dashboard.i18n import TEXTS
from koppel_dashboard.links import ledger_link, shop_link
from koppel_dashboard.masking import MASK, mask
from koppel_dashboard.orders import OrderState, OrderView
from koppel_dashboard.reports import Period, build_report, period_of, report_csv
from koppel_dashboard.settings_form import apply_form, check_against
from koppel_testkit import charge, line, make_order
from starlette.datastructures import FormData

from .dashboard_support import connection_settings

TEMPLATES = Path(koppel_dashboard.__file__).parent / "templates"


def view(
    ref: str,
    *,
    placed: str = "2026-11-20",
    total: str = "121.00",
    vat: dict[str, str] | None = None,
    revision: int = 1,
    booking: dict | None = None,
    check: dict | None = None,
    alert: dict | None = None,
    cancelled: bool = False,
) -> OrderView:
    shop = {
        "placed_on": placed,
        "state": {
            "order_number": f"WEB-{ref}",
            "revision": revision,
            "total_incl_vat": total,
            "vat": vat or {"21": "21.00"},
            "currency": "EUR",
            "cancelled": cancelled,
            "source_order_id": ref,
        },
    }

    def wrap(state: dict | None) -> dict | None:
        return {"state": state} if state is not None else None

    return OrderView("deboon", ref, shop, wrap(booking), wrap(check), wrap(alert))


def test_the_state_of_an_order_follows_its_latest_booking_and_revision() -> None:
    assert view("1").state is OrderState.WAITING
    assert view("1", booking={"status": "booked", "revision": 1}).state is OrderState.BOOKED
    amended = view("1", revision=2, booking={"status": "booked", "revision": 1})
    assert amended.state is OrderState.WAITING, "revision 2 still has to be booked"
    assert view("1", booking={"status": "failed", "revision": 1}).state is OrderState.FAILED
    assert view("1", booking={"status": "held", "revision": 1}).state is OrderState.HELD
    assert view("1", booking={"status": "credited", "revision": 2}).state is OrderState.CREDITED
    assert view("1", cancelled=True).state is OrderState.CANCELLED
    persistent = view(
        "1",
        alert={"kind": "persistent_failure", "reason_code": "x", "reason": "r", "suggestion": "s"},
    )
    assert persistent.state is OrderState.FAILED and persistent.failure["reason"] == "r"


def test_shop_vat_per_rate_spreads_unrated_costs_over_the_goods_rates() -> None:
    order = make_order(
        lines=[line("Koffie", "2", "10.90", "9"), line("Mok", "1", "12.10", "21")],
        shipping=charge("Verzending", "6.95", "21"),
    )
    rated = shop_vat_per_rate(order)
    assert rated == {"9": Decimal("1.80"), "21": Decimal("2.10") + Decimal("1.21")}

    unrated = make_order(
        lines=[line("Koffie", "1", "10.90", "9"), line("Mok", "1", "10.90", "21")],
        discounts=[
            OrderDiscount(description="Korting", amount_incl_vat="2.00", amount_excl_vat="1.70")
        ],
    )
    per_rate = shop_vat_per_rate(unrated)
    # 0.30 of discount VAT, half on each rate by the goods' amounts; the parts add up.
    assert sum(per_rate.values()) == unrated.totals.total_vat
    assert per_rate["9"] == Decimal("0.90") - Decimal("0.15")


@pytest.mark.parametrize(
    ("given", "key"), [("21.00", "21"), ("9", "9"), ("5.50", "5.5"), ("0", "0")]
)
def test_one_spelling_per_vat_rate(given, key) -> None:
    assert rate_key(Decimal(given)) == key


def test_periods_are_days_iso_weeks_and_months() -> None:
    assert period_of(date(2026, 1, 1), Period.WEEK) == "2026-W01"
    assert period_of(date(2027, 1, 1), Period.WEEK) == "2026-W53"
    assert period_of(date(2026, 11, 20), Period.MONTH) == "2026-11"
    assert period_of(date(2026, 11, 20), Period.DAY) == "2026-11-20"


def test_the_report_counts_every_order_once_and_compares_shop_and_ledger() -> None:
    views = [
        view(
            "1",
            booking={"status": "booked", "revision": 1},
            check={
                "booked_total_incl_vat": "121.00",
                "booked_vat": {"21": "21.00"},
                "expected_vat": {"21": "21.00"},
            },
        ),
        view(
            "2",
            booking={"status": "booked", "revision": 1},
            check={
                "booked_total_incl_vat": "120.90",
                "booked_vat": {"21": "20.90"},
                "expected_vat": {"21": "21.00"},
            },
        ),
        view("3", booking={"status": "failed", "revision": 1}, total="10.90", vat={"9": "0.90"}),
        view("4", placed="2026-11-21"),
        view("5", placed="2026-11-21", cancelled=True),
        view("6", placed="2026-12-01"),  # outside the range
    ]
    report = build_report(views, Period.DAY, date(2026, 11, 20), date(2026, 11, 21))
    first, second = report.rows
    assert (first.received, first.booked, first.failed, first.waiting) == (3, 2, 1, 0)
    assert first.shop_total == Decimal("252.90")
    assert first.ledger_total == Decimal("241.90")
    assert first.difference == Decimal("0.10")
    assert first.shop_vat == {"21": Decimal("42.00"), "9": Decimal("0.90")}
    assert first.ledger_vat == {"21": Decimal("41.90")}
    assert [o.order_ref for o in first.open_orders] == ["3"]
    assert (second.received, second.waiting, second.cancelled, second.accounted) == (2, 1, 1, 2)
    assert report.rates == ["21", "9"]

    rows = list(csv.reader(io.StringIO(report_csv(report))))
    assert rows[0][:4] == ["period", "received", "booked", "waiting"]
    assert rows[1][0] == "2026-11-20" and rows[1][8:10] == ["252.90", "241.90"]
    assert rows[-1][0] == "total" and rows[-1][1] == "5"
    header = rows[0]
    assert rows[1][header.index("ledger_vat_21")] == "41.90"
    assert all(re.fullmatch(r"-?\d+\.\d\d", cell) for cell in rows[1][8:])


def test_weeks_group_days_and_every_week_in_the_range_is_shown() -> None:
    views = [
        view("1", placed="2026-11-16"),
        view("2", placed="2026-11-22"),
        view("3", placed="2026-11-23"),
    ]
    report = build_report(views, Period.WEEK, date(2026, 11, 9), date(2026, 11, 23))
    assert [(r.period, r.received) for r in report.rows] == [
        ("2026-W46", 0),
        ("2026-W47", 2),
        ("2026-W48", 1),
    ]


def test_masking_hides_credentials_ciphertexts_and_secret_parameters() -> None:
    data = {
        "settings": {
            "shop": {"credentials": {"api_secret": "enc:v1:abc", "other": "x"}},
            "ledger": {"password": "plain", "dossier_id": "1234"},
        },
        "note": "called https://x/?token=abcdef and enc:v1:Zm9v",
        "subscription_key": "5f3c",
        "items": [{"koppelsleutel": "k"}],
    }
    masked = mask(data)
    assert masked["settings"]["shop"]["credentials"] == {"api_secret": MASK, "other": MASK}
    assert masked["settings"]["ledger"] == {"password": MASK, "dossier_id": "1234"}
    assert "abcdef" not in masked["note"] and "Zm9v" not in masked["note"]
    assert masked["subscription_key"] == MASK and masked["items"] == [{"koppelsleutel": MASK}]


def test_money_in_dutch_and_english() -> None:
    assert money(Decimal("1234.565")) == "€ 1.234,57"
    assert money(Decimal("-0.10")) == "€ -0,10"
    assert money(Decimal("1234.5"), lang="en") == "€1,234.50"
    assert money(None) == "–"


def _form(**fields: str | list[str]) -> FormData:
    items: list[tuple[str, str]] = []
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            items.append((name.replace("__", "."), one))
    return FormData(items)


BASE = {
    "merchant__name": "De Boon",
    "merchant__contact_email": "a@deboon.nl",
    "merchant__language": "nl",
    "active": "on",
    "shop__base_url": "https://deboon.ccvshop.nl",
    "shop__trigger_statuses_text": "paid, 5",
    "shop__default_vat_rate": "21",
    "ledger__base_url": "https://octopus.example/api",
    "ledger__dossier_id": "1234",
    "vat-0-rate": "21",
    "vat-0-treatment": "domestic",
    "vat-0-account": "8000",
    "vat-0-code": "V21",
    "vat-1-rate": "",
    "vat-1-treatment": "domestic",
    "booking__tolerance": "0.05",
    "booking__charge_vat": "as_charged",
    "octopus__booking_mode": "invoice",
}


def test_the_settings_form_keeps_what_it_does_not_show_and_encrypts_typed_secrets() -> None:
    key = generate_key()
    current = connection_settings(key)
    new, problems = apply_form(
        current, _form(**BASE, **{"shop.credentials.api_secret": "n"}), SecretBox(key)
    )
    assert problems == [] and new is not None
    assert new.shop.options.trigger_statuses == ["paid", "5"]
    assert new.ledger.credentials == current.ledger.credentials, "empty field: kept"
    secret = new.shop.credentials["api_secret"]
    assert secret != current.shop.credentials["api_secret"]
    assert SecretBox(key).decrypt(secret).get_secret_value() == "n"
    assert len(new.ledger.booking.vat_accounts) == 1, "the empty row is no mapping"


def test_the_mapping_is_checked_against_the_ledgers_accounts_and_vat_percentages() -> None:
    settings = connection_settings(generate_key())
    catalog = {
        "accounts": [{"code": "8000"}],
        "vat_codes": [{"code": "V21", "percentage": "9"}],
    }
    [problem] = check_against(settings, catalog, None)
    assert problem.key == "settings.vat_code_rate"
    assert problem.params == {"rate": "21", "code": "V21", "percentage": "9"}
    missing = check_against(settings, {"accounts": [{"code": "7000"}], "vat_codes": []}, None)
    assert [p.key for p in missing] == ["settings.unknown_account"]
    states = check_against(settings, None, {"order_states": [{"code": "5"}]})
    assert [p.params for p in states] == [{"status": "paid"}]
    assert check_against(settings, None, None) == []


def test_links_appear_only_where_a_template_and_its_values_exist() -> None:
    settings = connection_settings(generate_key())
    order = view(
        "1001", booking={"status": "booked", "revision": 1, "ledger_ref": {"booking_id": "B7"}}
    )
    templates = {
        "ccvshop": "{base_url}/admin/orders/{order_id}",
        "octopus": "{base_url}/d/{dossier_id}/{document_number}",
    }
    assert shop_link(templates, settings, order) == "https://deboon.ccvshop.nl/admin/orders/1001"
    assert ledger_link(templates, settings, order) is None, "no document number yet"
    assert shop_link({}, settings, order) is None


def test_every_text_a_template_uses_exists_in_dutch_and_english() -> None:
    used: set[str] = set()
    families: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        used.update(re.findall(r"\bt\('([a-z_.]+)'", text))
        families.update(re.findall(r"\bt\('([a-z_.]+[._])' ~", text))
    missing = sorted(k for k in used if k not in TEXTS and k not in families)
    assert missing == []
    for family, members in {
        "state.": [s.value for s in OrderState],
        "event.": [
            "order_created",
            "order_amended",
            "order_cancelled",
            "booking_booked",
            "booking_replaced",
            "booking_credited",
            "booking_failed",
            "booking_held",
            "check_matched",
            "check_mismatch",
            "alert_persistent_failure",
            "alert_ingest_failure",
            "alert_connection_broken",
            "alert_connection_restored",
            "action_retry",
            "action_report",
        ],
        "request.state.": ["ok", "failed", "running", "done"],
        "report.": ["day", "week", "month"],
        "request.title_": ["test_shop", "test_ledger", "migrate"],
    }.items():
        assert family in families
        assert [m for m in members if family + m not in TEXTS] == []
    assert all(nl and en for nl, en in TEXTS.values())


def test_timestamps_show_in_amsterdam_time() -> None:
    from koppel_dashboard.formatting import moment

    assert moment(datetime(2026, 11, 20, 23, 30, tzinfo=UTC)) == "21 nov 2026 00:30:00"
    assert moment(datetime(2026, 7, 1, 10, 0, tzinfo=UTC), "en") == "1 Jul 2026 12:00:00"


def test_the_bol_vat_tables_are_read_one_ean_or_offer_per_line() -> None:
    key = generate_key()
    form = _form(**BASE, **{"shop.vat_by_ean": "8712345678906 = 9\n\n8712345678913 = 21%\n"})
    new, problems = apply_form(connection_settings(key), form, SecretBox(key))
    assert problems == [] and new is not None
    assert new.shop.options.vat_by_ean == {
        "8712345678906": Decimal("9"),
        "8712345678913": Decimal("21"),
    }
    broken = _form(**BASE, **{"shop.vat_by_offer_reference": "koffie-1 9"})
    refused, problems = apply_form(connection_settings(key), broken, SecretBox(key))
    assert refused is None
    assert [(p.field, p.key, p.params) for p in problems] == [
        ("shop.vat_by_offer_reference", "settings.table_line", {"line": 1})
    ]
