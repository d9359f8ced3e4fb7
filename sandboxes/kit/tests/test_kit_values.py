"""Decimal JSON, clocks, seeded state and the demo booking options: the kit's plain values."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from koppel_contracts import VatTreatment
from koppel_sandbox_kit import (
    DecimalJson,
    ManualClock,
    SeededState,
    at_least_cents,
    exact_digits,
    python_float,
    round_cents,
    shortest,
)
from koppel_sandbox_kit.koppel_options import DEMO_VAT_SITUATIONS, demo_vat_booking

AMOUNTS = [D("5505.8000"), D("64.9"), D("1"), D("1E+2"), D("-0.00"), D("1.0845"), D("0E-7")]


def test_each_number_style_writes_the_digits_its_vendor_writes() -> None:
    assert [exact_digits(a) for a in AMOUNTS] == [
        "5505.8000", "64.9", "1", "100", "0.00", "1.0845", "0.0000000",
    ]  # fmt: skip
    assert [at_least_cents(a) for a in AMOUNTS] == [
        "5505.8000", "64.90", "1.00", "100.00", "0.00", "1.0845", "0.0000000",
    ]  # fmt: skip
    assert [shortest(a) for a in AMOUNTS] == ["5505.8", "64.9", "1", "100", "0", "1.0845", "0"]


def test_dumps_is_compact_unescaped_json_with_integers_left_alone() -> None:
    codec = DecimalJson(at_least_cents)
    value = {"naam": 'Café "De Hoek"', "n": 3, "ok": True, "x": None, "l": (D("2.5"), 0.5)}
    expected = '{"naam":"Café \\"De Hoek\\"","n":3,"ok":true,"x":null,"l":[2.50,0.50]}'
    assert codec.dumps(value) == expected


def test_floats_follow_the_style_unless_the_codec_writes_them_as_python_does() -> None:
    assert DecimalJson(shortest).dumps([60.0, 0.25]) == "[60,0.25]"
    assert DecimalJson(exact_digits).dumps([60.0, 1e-07]) == "[60.0,0.0000001]"
    assert DecimalJson(shortest, float_text=python_float).dumps([60.0, 1e-07]) == "[60.0,1e-07]"


def test_loads_reads_every_fraction_as_a_decimal_and_refuses_nan_unless_allowed() -> None:
    assert DecimalJson().loads(b'{"a": 1.50, "b": 2}') == {"a": D("1.50"), "b": 2}
    assert isinstance(DecimalJson().loads("1.50"), D)
    with pytest.raises(ValueError, match="NaN is not a valid JSON number"):
        DecimalJson().loads("[NaN]")
    assert DecimalJson(allow_nan=True).loads("[Infinity]") == [float("inf")]


def test_a_non_finite_decimal_is_written_only_where_nan_is_allowed() -> None:
    with pytest.raises(ValueError, match="non-finite"):
        DecimalJson().dumps(D("NaN"))
    assert DecimalJson(shortest, allow_nan=True).dumps([D("NaN"), D("-Infinity")]) == (
        "[NaN,-Infinity]"
    )


def test_objects_json_cannot_hold_are_refused() -> None:
    with pytest.raises(TypeError, match="datetime"):
        DecimalJson().dumps({"at": datetime(2026, 1, 1)})


def test_round_cents_rounds_halves_away_from_zero() -> None:
    assert [round_cents(D(v)) for v in ("0.125", "-0.125", "0.124")] == [
        D("0.13"),
        D("-0.13"),
        D("0.12"),
    ]


def test_a_manual_clock_takes_a_naive_start_as_utc_and_moves_only_when_told() -> None:
    clock = ManualClock(datetime(2026, 3, 14, 9, 30))
    assert clock() == datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
    assert clock.advance(minutes=61) == datetime(2026, 3, 14, 10, 31, tzinfo=UTC)
    assert clock() == clock.now


class Shop(SeededState):
    def __init__(self, clock: ManualClock | None = None, seed=None) -> None:
        self.builds = 0
        super().__init__(clock, seed)

    def _init_data(self) -> None:
        self.builds += 1
        self.orders: dict[str, D] = {}


def _seed(shop: Shop) -> None:
    shop.orders["1001"] = D("9.90")


def test_reset_goes_back_to_what_the_seed_made_and_drops_faults_and_clock_offset() -> None:
    clock = ManualClock(datetime(2026, 3, 14, 9, 0, tzinfo=UTC))
    shop = Shop(clock, _seed)
    shop.orders["1002"] = D("1.00")
    shop.faults.rules.append(object())  # type: ignore[arg-type]
    shop.advance_clock(3600)
    assert shop.now() == datetime(2026, 3, 14, 10, 0, tzinfo=UTC)
    clock.advance(minutes=5)

    shop.reset()

    assert shop.orders == {"1001": D("9.90")} and shop.builds == 2
    assert shop.faults.rules == []
    assert shop.now() == datetime(2026, 3, 14, 9, 5, tzinfo=UTC), "the test's clock stays moved"


def test_a_naive_injected_clock_reads_as_utc() -> None:
    shop = Shop(lambda: datetime(2026, 1, 1, 12, 0))  # type: ignore[arg-type]
    shop.advance_clock(1.5)
    assert shop.now() == datetime(2026, 1, 1, 12, 0, tzinfo=UTC) + timedelta(seconds=1.5)


def test_demo_vat_booking_maps_every_situation_in_order_through_the_ledgers_names() -> None:
    def account_and_code(situation):
        return f"8{situation.rate}", f"{situation.treatment}-{situation.country}"

    options = demo_vat_booking(account_and_code)
    assert [
        (m.vat_rate, m.treatment, m.country_code, m.ledger_account, m.vat_code)
        for m in options.vat_accounts
    ] == [
        (D(s.rate), s.treatment, s.country, f"8{s.rate}", f"{s.treatment}-{s.country}")
        for s in DEMO_VAT_SITUATIONS
    ]
    assert {s.treatment for s in DEMO_VAT_SITUATIONS} == set(VatTreatment)
    assert demo_vat_booking(account_and_code, vat_accounts=[]).vat_accounts == []
