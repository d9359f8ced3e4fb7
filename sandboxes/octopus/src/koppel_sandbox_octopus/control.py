"""`OctopusControl`: the async client for the sandbox's `/_control` API, used by
tests of this sandbox and of the services that talk to Octopus.

Lists come back parsed with `Decimal` for every number with a fraction, so
amounts can be compared to the cent.
"""

from __future__ import annotations

from decimal import Decimal
from types import TracebackType
from typing import Any

import httpx

from . import errors as E
from .jsonio import loads


class OctopusControl:
    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)

    async def __aenter__(self) -> OctopusControl:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._http.request(method, f"/_control{path}", **kwargs)
        response.raise_for_status()
        if not response.content:
            return None
        return loads(response.content)

    # ------------------------------------------------------------------ the brief's API
    async def set_password(self, user: str, password: str) -> None:
        """Change a user's password; every token that user holds stops working (401)."""
        await self._request("POST", "/password", json={"user": user, "password": password})

    async def expire_tokens(self) -> None:
        """Every issued token (auth and dossier) expires now."""
        await self._request("POST", "/tokens/expire")

    async def add_fault(self, **rule: Any) -> None:
        """Add a kit `FaultRule` (status, path regex, method, times, body, headers,
        delay_seconds, timeout). Error faults get an Octopus error body unless one is
        given; a 429 gets `Retry-After: 1` unless headers say otherwise."""
        status = int(rule.get("status", 500))
        if rule.get("body") is None and not rule.get("timeout"):
            rule["body"] = E.error_body(
                E.INJECTED, "Tijdelijke fout (geïnjecteerd)", f"injected fault {status}"
            )
        if status == 429:
            rule["headers"] = {"Retry-After": "1", **(rule.get("headers") or {})}
        await self._request("POST", "/faults", json=rule)

    async def clear_faults(self) -> None:
        await self._request("DELETE", "/faults")

    async def invoices(self, dossier_id: int) -> list[dict[str, Any]]:
        """Every invoice (concept or booked) as stored, in API shape, plus a
        sandbox-only `_sandbox` entry: booked, totalExclVat, totalVat, totalInclVat."""
        return await self._request("GET", f"/dossiers/{dossier_id}/invoices")

    async def buysell_bookings(self, dossier_id: int) -> list[dict[str, Any]]:
        return await self._request("GET", f"/dossiers/{dossier_id}/buysellbookings")

    async def financial_bookings(self, dossier_id: int) -> list[dict[str, Any]]:
        return await self._request("GET", f"/dossiers/{dossier_id}/financialdiversbookings")

    async def relations(self, dossier_id: int) -> list[dict[str, Any]]:
        return await self._request("GET", f"/dossiers/{dossier_id}/relations")

    async def calls(self, dossier_id: int | None = None) -> dict[str, int]:
        """Calls per endpoint ("POST /dossiers/{d}/buysellbookings": 3, ...). With a
        dossier id: that dossier's endpoints; without: everything, including
        /authentication and /dossiers."""
        params = {} if dossier_id is None else {"dossierId": dossier_id}
        return await self._request("GET", "/calls", params=params)

    async def set_quota(self, calls_per_endpoint_per_day: int | None) -> None:
        """Daily calls per endpoint per dossier; None = unlimited. Resets the counters."""
        await self._request(
            "POST", "/quota", json={"calls_per_endpoint_per_day": calls_per_endpoint_per_day}
        )

    async def tamper_next_document(
        self, total_delta: str = "1.00", relation_id: int | None = None
    ) -> None:
        """The next invoice / buy-sell booking / financial booking created is stored
        off by `total_delta` and/or attached to `relation_id`."""
        await self._request(
            "POST", "/tamper", json={"total_delta": str(total_delta), "relation_id": relation_id}
        )

    async def reset(self) -> None:
        await self._request("POST", "/reset")

    # ------------------------------------------------------------------ additions
    async def identity(self) -> dict[str, Any]:
        return await self._request("GET", "/identity")

    async def advance_clock(self, seconds: float) -> str:
        """Move the sandbox clock forward (e.g. 601 s to outlive every token)."""
        return (await self._request("POST", "/clock", json={"advance_seconds": seconds}))["now"]

    async def close_period(self, dossier_id: int, period: int, closed: bool = True) -> None:
        """Close (or reopen) period YYYYPP: bookings in it answer "periode niet toegankelijk"."""
        await self._request(
            "POST",
            f"/dossiers/{dossier_id}/periods",
            json={"bookyearPeriodeNr": period, "closed": closed},
        )

    async def close_journal(
        self, dossier_id: int, journal_key: str, closed: bool = True, bookyear_id: int | None = None
    ) -> None:
        """Close (or reopen) a journal: writes to it answer 403."""
        await self._request(
            "POST",
            f"/dossiers/{dossier_id}/journals",
            json={"journalKey": journal_key, "closed": closed, "bookyearId": bookyear_id},
        )

    async def set_invoice_module(self, dossier_id: int, enabled: bool) -> None:
        """Switch the invoicing module; off = /invoices answers 403."""
        await self._request(
            "POST", f"/dossiers/{dossier_id}/invoice-module", json={"enabled": enabled}
        )

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
        await self._request("POST", "/options", json=options)

    async def faults(self) -> dict[str, Any]:
        return await self._request("GET", "/faults")
