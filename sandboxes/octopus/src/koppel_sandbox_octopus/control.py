"""`OctopusControl`: the async client for the sandbox's `/_control` API, used by
tests of this sandbox and of the services that talk to Octopus.

Lists come back parsed with `Decimal` for every number with a fraction, so
amounts can be compared to the cent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from koppel_sandbox_kit import SeededControl

from . import errors as E
from .jsonio import OCTOPUS_JSON


class OctopusControl(SeededControl):
    codec = OCTOPUS_JSON

    # ------------------------------------------------------------------ the brief's API
    async def set_password(self, user: str, password: str) -> None:
        """Change a user's password; every token that user holds stops working (401)."""
        await self._call("POST", "/password", {"user": user, "password": password})

    async def expire_tokens(self) -> None:
        """Every issued token (auth and dossier) expires now."""
        await self._call("POST", "/tokens/expire")

    def _fault_body(self, status: int) -> Any:
        return E.error_body(
            E.INJECTED, "Tijdelijke fout (geïnjecteerd)", f"injected fault {status}"
        )

    async def invoices(self, dossier_id: int) -> list[dict[str, Any]]:
        """Every invoice (concept or booked) as stored, in API shape, plus a
        sandbox-only `_sandbox` entry: booked, totalExclVat, totalVat, totalInclVat."""
        return await self._call("GET", f"/dossiers/{dossier_id}/invoices")

    async def buysell_bookings(self, dossier_id: int) -> list[dict[str, Any]]:
        return await self._call("GET", f"/dossiers/{dossier_id}/buysellbookings")

    async def financial_bookings(self, dossier_id: int) -> list[dict[str, Any]]:
        return await self._call("GET", f"/dossiers/{dossier_id}/financialdiversbookings")

    async def relations(self, dossier_id: int) -> list[dict[str, Any]]:
        return await self._call("GET", f"/dossiers/{dossier_id}/relations")

    async def calls(self, dossier_id: int | None = None) -> dict[str, int]:
        """Calls per endpoint ("POST /dossiers/{d}/buysellbookings": 3, ...). With a
        dossier id: that dossier's endpoints; without: everything, including
        /authentication and /dossiers."""
        params = {} if dossier_id is None else {"dossierId": dossier_id}
        return await self._call("GET", "/calls", params=params)

    async def set_quota(self, calls_per_endpoint_per_day: int | None) -> None:
        """Daily calls per endpoint per dossier; None = unlimited. Resets the counters."""
        await self._call(
            "POST", "/quota", {"calls_per_endpoint_per_day": calls_per_endpoint_per_day}
        )

    async def tamper_next_document(
        self, total_delta: str = "1.00", relation_id: int | None = None
    ) -> None:
        """The next invoice / buy-sell booking / financial booking created is stored
        off by `total_delta` and/or attached to `relation_id`."""
        await self._call(
            "POST", "/tamper", {"total_delta": str(total_delta), "relation_id": relation_id}
        )

    async def close_period(self, dossier_id: int, period: int, closed: bool = True) -> None:
        """Close (or reopen) period YYYYPP: bookings in it answer "periode niet toegankelijk"."""
        await self._call(
            "POST",
            f"/dossiers/{dossier_id}/periods",
            {"bookyearPeriodeNr": period, "closed": closed},
        )

    async def close_journal(
        self, dossier_id: int, journal_key: str, closed: bool = True, bookyear_id: int | None = None
    ) -> None:
        """Close (or reopen) a journal: writes to it answer 403."""
        await self._call(
            "POST",
            f"/dossiers/{dossier_id}/journals",
            {"journalKey": journal_key, "closed": closed, "bookyearId": bookyear_id},
        )

    async def set_invoice_module(self, dossier_id: int, enabled: bool) -> None:
        """Switch the invoicing module; off = /invoices answers 403."""
        await self._call("POST", f"/dossiers/{dossier_id}/invoice-module", {"enabled": enabled})

    async def configure(
        self,
        *,
        amount_tolerance: str | Decimal | None = None,
        vat_tolerance: str | Decimal | None = None,
    ) -> None:
        """Buy/sell checks: |Σ(base+vat) − amount| ≤ amount_tolerance (default 0.00),
        |vatAmount − round(base × rate)| ≤ vat_tolerance (default 0.01)."""
        options: dict[str, str] = {}
        if amount_tolerance is not None:
            options["amount_tolerance"] = str(amount_tolerance)
        if vat_tolerance is not None:
            options["vat_tolerance"] = str(vat_tolerance)
        await self._call("POST", "/options", options)
