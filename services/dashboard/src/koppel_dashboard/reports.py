"""Rapportage: per day, ISO week or month — orders received, booked, waiting and failed,
totals and VAT per rate on the shop side and the ledger side next to each other, and every
received (paid) order accounted for. Pure functions; CSV with Decimal strings."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from .amounts import sorted_rates
from .orders import OrderState, OrderView


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def period_of(day: date, period: Period) -> str:
    if period is Period.DAY:
        return day.isoformat()
    if period is Period.WEEK:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def default_range(period: Period, today: date) -> tuple[date, date]:
    days = {Period.DAY: 30, Period.WEEK: 7 * 12, Period.MONTH: 365}[period]
    return today - timedelta(days=days - 1), today


@dataclass
class PeriodRow:
    period: str
    received: int = 0
    booked: int = 0
    waiting: int = 0
    failed: int = 0  # failed and held: a person must act
    credited: int = 0
    cancelled: int = 0
    unchecked: int = 0  # booked, but the ledger's read-back has not said what it holds
    shop_total: Decimal = Decimal(0)
    ledger_total: Decimal = Decimal(0)
    booked_shop_total: Decimal = Decimal(0)  # the shop's totals of the checked bookings
    shop_vat: dict[str, Decimal] = field(default_factory=dict)
    ledger_vat: dict[str, Decimal] = field(default_factory=dict)
    open_orders: list[OrderView] = field(default_factory=list)

    @property
    def accounted(self) -> int:
        """Every received order is in exactly one state; this adds them up again."""
        return self.booked + self.waiting + self.failed + self.credited + self.cancelled

    @property
    def difference(self) -> Decimal:
        """Shop minus ledger over the booked orders whose read-back is known."""
        return self.booked_shop_total - self.ledger_total


@dataclass
class Report:
    period: Period
    start: date
    end: date
    rows: list[PeriodRow]
    rates: list[str]

    @property
    def totals(self) -> PeriodRow:
        total = PeriodRow("total")
        for row in self.rows:
            for name in (
                "received",
                "booked",
                "waiting",
                "failed",
                "credited",
                "cancelled",
                "unchecked",
            ):
                setattr(total, name, getattr(total, name) + getattr(row, name))
            total.shop_total += row.shop_total
            total.ledger_total += row.ledger_total
            total.booked_shop_total += row.booked_shop_total
            for mine, theirs in (
                (total.shop_vat, row.shop_vat),
                (total.ledger_vat, row.ledger_vat),
            ):
                for rate, amount in theirs.items():
                    mine[rate] = mine.get(rate, Decimal(0)) + amount
            total.open_orders.extend(row.open_orders)
        return total


def _add(into: dict[str, Decimal], rates: dict[str, Decimal]) -> None:
    for rate, amount in rates.items():
        into[rate] = into.get(rate, Decimal(0)) + amount


def build_report(views: Iterable[OrderView], period: Period, start: date, end: date) -> Report:
    rows: dict[str, PeriodRow] = {}
    day = start
    while day <= end:  # every period in the range, also the empty ones
        key = period_of(day, period)
        rows.setdefault(key, PeriodRow(key))
        day += timedelta(days=1)
    for view in views:
        placed = view.placed_on
        if placed is None or not start <= placed <= end:
            continue
        row = rows[period_of(placed, period)]
        row.received += 1
        state = view.state
        if state is OrderState.BOOKED:
            row.booked += 1
        elif state is OrderState.WAITING:
            row.waiting += 1
        elif state in (OrderState.FAILED, OrderState.HELD):
            row.failed += 1
        elif state is OrderState.CREDITED:
            row.credited += 1
        else:
            row.cancelled += 1
        if state in (OrderState.WAITING, OrderState.FAILED, OrderState.HELD):
            row.open_orders.append(view)
        if state in (OrderState.CANCELLED, OrderState.CREDITED):
            continue  # nothing (left) to book: not in the totals of either side
        row.shop_total += view.shop_total or Decimal(0)
        _add(row.shop_vat, view.shop_vat)
        if state is OrderState.BOOKED:
            ledger_total = view.ledger_total
            if ledger_total is None:
                row.unchecked += 1
                continue
            row.ledger_total += ledger_total
            row.booked_shop_total += view.shop_total or Decimal(0)
            _add(row.ledger_vat, view.ledger_vat or {})
    ordered = [rows[k] for k in sorted(rows)]
    rates = sorted_rates(r for row in ordered for r in (*row.shop_vat, *row.ledger_vat))
    return Report(period, start, end, ordered, rates)


def _money(amount: Decimal) -> str:
    return format(amount.quantize(Decimal("0.01")), "f")


def report_csv(report: Report) -> str:
    """One line per period; amounts as Decimal strings with a point ("1234.50")."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = [
        "period",
        "received",
        "booked",
        "waiting",
        "failed",
        "credited",
        "cancelled",
        "unchecked",
        "shop_total_incl_vat",
        "ledger_total_incl_vat",
    ]
    for rate in report.rates:
        header += [f"shop_vat_{rate}", f"ledger_vat_{rate}"]
    writer.writerow(header)
    for row in [*report.rows, report.totals]:
        line = [
            row.period,
            row.received,
            row.booked,
            row.waiting,
            row.failed,
            row.credited,
            row.cancelled,
            row.unchecked,
            _money(row.shop_total),
            _money(row.ledger_total),
        ]
        for rate in report.rates:
            line += [
                _money(row.shop_vat.get(rate, Decimal(0))),
                _money(row.ledger_vat.get(rate, Decimal(0))),
            ]
        writer.writerow(line)
    return out.getvalue()


def orders_csv(views: Iterable[OrderView]) -> str:
    """Every order of the range with its state: the completeness list as a file."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "placed_on",
            "order_number",
            "order_ref",
            "state",
            "shop_total_incl_vat",
            "ledger_total_incl_vat",
            "document",
            "reason_code",
        ]
    )
    for view in views:
        ref = view.ledger_ref or {}
        failure = view.failure or {}
        ledger_total = view.ledger_total
        writer.writerow(
            [
                view.placed_on.isoformat() if view.placed_on else "",
                view.order_number,
                view.order_ref,
                str(view.state),
                _money(view.shop_total) if view.shop_total is not None else "",
                _money(ledger_total) if ledger_total is not None else "",
                ref.get("document_number") or ref.get("booking_id") or "",
                failure.get("reason_code", ""),
            ]
        )
    return out.getvalue()
