"""The shop side of connection requests: "Test verbinding" for a shop and historic imports.

Answers `test_shop` with the adapter's connection test (what is wrong, in the merchant's
language, or the shop's order states to choose from) and `migrate` with the migration's
progress about every second and its result; a dry run first tells how many orders and
which totals a real run would publish, and which of them the ledger would refuse.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from koppel_bookkeeping import refusal_text
from koppel_chassis import ConnectionStore, Reply, Service, answer_requests
from koppel_contracts import (
    AnswerState,
    Choice,
    ConnectionRequest,
    ConnectionSettings,
    Language,
    Problem,
    RequestKind,
)

from .adapter import ConnectionCheck
from .migration import MigrationTally
from .runtime import IngestRuntime

# Merchants in the Netherlands and Belgium: a day of orders is a day on their clock.
MERCHANT_TIME = ZoneInfo("Europe/Amsterdam")


def period(since: date | None, until: date | None, today: date) -> tuple[datetime, datetime]:
    """[first day 00:00, the day after the last day 00:00) in the merchants' time zone."""
    first = since or today
    last = until or today
    start = datetime.combine(first, time(), MERCHANT_TIME)
    end = datetime.combine(last + timedelta(days=1), time(), MERCHANT_TIME)
    return start.astimezone(UTC), end.astimezone(UTC)


def order_states(check: ConnectionCheck) -> list[Choice]:
    return [
        Choice(
            code=s.code,
            name=s.name,
            flags=list(dict.fromkeys([*(["paid"] if s.bookable_by_default else []), *s.flags])),
        )
        for s in check.states
    ]


def check_problem(check: ConnectionCheck) -> Problem:
    return Problem(
        code=check.problem or "shop_error", reason=check.message, suggestion=check.suggestion
    )


def refusal_problems(tally: MigrationTally, language: Language) -> list[Problem]:
    problems = []
    for code, count in sorted(tally.refused.items()):
        reason, suggestion = refusal_text(tally.first_refusal[code], language)
        prefix = (
            f"{count} bestelling(en) zou(den) de boekhouding weigeren"
            if language is Language.NL
            else f"The ledger would refuse {count} order(s)"
        )
        problems.append(Problem(code=code, reason=f"{prefix}: {reason}", suggestion=suggestion))
    return problems


def broken_problem(language: Language) -> Problem:
    if language is Language.NL:
        return Problem(
            code="connection_broken",
            reason="De winkel weigert de inloggegevens van deze koppeling.",
            suggestion="Vul de gegevens opnieuw in (Test verbinding) en start de import opnieuw.",
        )
    return Problem(
        code="connection_broken",
        reason="The shop refuses this connection's credentials.",
        suggestion="Enter them again (Test connection) and start the import again.",
    )


def serve_requests(service: Service, runtime: IngestRuntime, connections: ConnectionStore) -> None:
    adapter = runtime.adapter

    async def handle(
        request: ConnectionRequest, settings: ConnectionSettings, reply: Reply
    ) -> None:
        language = settings.merchant.language
        if request.kind is RequestKind.TEST_SHOP:
            check = await runtime.check_connection(settings, language)
            if check.ok:
                await reply(AnswerState.OK, order_states=order_states(check))
            else:
                await reply(AnswerState.FAILED, problems=[check_problem(check)])
            return
        start, end = period(request.since, request.until, datetime.now(MERCHANT_TIME).date())

        async def progress(tally: MigrationTally) -> None:
            await reply(AnswerState.RUNNING, migration=tally.progress())

        await reply(AnswerState.RUNNING, migration=MigrationTally().progress())
        report = await runtime.migrate(
            request.connection_id, start, end, dry_run=request.dry_run, progress=progress
        )
        problems = refusal_problems(report.tally, language)
        if not report.connection_usable:
            problems.insert(0, broken_problem(language))
        state = AnswerState.DONE if report.connection_usable else AnswerState.FAILED
        await reply(state, migration=report.tally.progress(), problems=problems)

    answer_requests(
        service,
        connections,
        kinds={RequestKind.TEST_SHOP, RequestKind.MIGRATE},
        concerns=lambda settings: settings.shop.system == adapter.system,
        handle=handle,
    )
