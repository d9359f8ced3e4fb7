"""The ledger side of "Test verbinding" (`test_ledger` on `ops.requests.v1`).

The adapter logs in with the (possibly unsaved) settings and tells what the ledger offers:
its ledger accounts and VAT codes with their percentages (`LedgerAdapter.describe`). The
runtime then holds the connection's mapping against that — every mapped account exists,
every VAT code exists and is the percentage of the rate it is mapped to — so a mistake
shows on the settings page, not on the first order. Problems are in the merchant's
language; the lists go back too, for the page's choices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from koppel_chassis import (
    ConnectionStore,
    CredentialsError,
    ExternalError,
    Reply,
    Service,
    TransientError,
    answer_requests,
)
from koppel_contracts import (
    AnswerState,
    BookingOptions,
    Choice,
    ConnectionRequest,
    ConnectionSettings,
    Language,
    Problem,
    RequestKind,
    VatTreatment,
)

from .adapter import LedgerAdapter, Refusal, SettingsIncomplete, Texts
from .runtime import LedgerRuntime
from .texts import RUNTIME_TEXTS, merged, refusal_text


@dataclass(frozen=True)
class LedgerDescription:
    """What the ledger offers to map to. An empty list: the ledger has no such thing to
    choose (a file ledger's accounts), so nothing is compared against it."""

    accounts: list[Choice] = field(default_factory=list)
    vat_codes: list[Choice] = field(default_factory=list)
    # What the adapter found wrong with its own options (e.g. SnelStart's order articles),
    # as refusals: the merchant reads the adapter's text for each.
    refusals: list[Refusal] = field(default_factory=list)


def _problem(texts: Texts, code: str, params: Mapping[str, Any], language: Language) -> Problem:
    reason, suggestion = refusal_text(texts, code, params, language)
    return Problem(code=code, reason=reason, suggestion=suggestion)


def _pct(value: Decimal) -> str:
    return format(value.normalize(), "f")


def mapping_problems(
    booking: BookingOptions,
    found: LedgerDescription,
    *,
    ledger: str,
    language: Language,
    texts: Texts = RUNTIME_TEXTS,
) -> list[Problem]:
    """The connection's VAT mapping held against what the ledger reports (pure)."""
    accounts = {a.code for a in found.accounts}
    codes = {c.code: c.percentage for c in found.vat_codes}
    problems: list[Problem] = []
    for mapping in booking.vat_accounts:
        params = {
            "ledger": ledger,
            "rate": _pct(mapping.vat_rate),
            "account": mapping.ledger_account,
            "vat_code": mapping.vat_code,
        }
        if accounts and mapping.ledger_account not in accounts:
            problems.append(_problem(texts, "account_missing", params, language))
        if codes and mapping.vat_code not in codes:
            problems.append(_problem(texts, "vat_code_missing", params, language))
            continue
        percentage = codes.get(mapping.vat_code)
        # OSS rates are booked on the ledger's own foreign-VAT codes (SnelStart: kind Geen
        # with a VAT account), so only the other treatments compare percentages here.
        compared = mapping.treatment is not VatTreatment.OSS
        if compared and percentage is not None and percentage != mapping.vat_rate:
            params["percentage"] = _pct(percentage)
            problems.append(_problem(texts, "vat_code_rate_mismatch", params, language))
    return problems


async def check_ledger(
    adapter: LedgerAdapter, settings: ConnectionSettings
) -> tuple[list[Problem], LedgerDescription | None]:
    """Log in, describe, compare. Problems empty: the connection works as configured."""
    texts = merged(RUNTIME_TEXTS, adapter.texts)
    language = settings.merchant.language
    values: dict[str, Any] = {"ledger": adapter.display_name, "dossier": settings.ledger.dossier_id}
    try:
        found = await adapter.describe(settings)
    except SettingsIncomplete as error:
        code, values["detail"] = "settings_incomplete", str(error)
    except CredentialsError as error:
        code, values["message"] = "credentials_refused", str(error)
    except TransientError as error:
        code, values["message"] = "ledger_unreachable", str(error)
    except Refusal as refusal:
        code = refusal.reason_code
        values.update(refusal.params)
    except ExternalError as error:
        code, values["message"] = "ledger_refused", str(error)
    else:
        # The mapping's own problems first: an adapter's refusal is often their consequence.
        problems = mapping_problems(
            settings.ledger.booking,
            found,
            ledger=adapter.display_name,
            language=language,
            texts=texts,
        )
        problems += [
            _problem(texts, r.reason_code, {**values, **r.params}, language) for r in found.refusals
        ]
        return problems, found
    return [_problem(texts, code, values, language)], None


def serve_requests(service: Service, runtime: LedgerRuntime, connections: ConnectionStore) -> None:
    adapter = runtime.adapter

    async def handle(
        request: ConnectionRequest, settings: ConnectionSettings, reply: Reply
    ) -> None:
        problems, found = await check_ledger(adapter, settings)
        await reply(
            AnswerState.FAILED if problems else AnswerState.OK,
            problems=problems,
            accounts=found.accounts if found else [],
            vat_codes=found.vat_codes if found else [],
        )

    answer_requests(
        service,
        connections,
        kinds={RequestKind.TEST_LEDGER},
        concerns=lambda settings: settings.ledger.system == adapter.system,
        handle=handle,
    )
