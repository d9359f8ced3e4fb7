"""`SnelStartControl`: the async client of the sandbox's `/_control` API, for this package's
tests and for the tests of services that talk to SnelStart (ledger-snelstart).

Answers are parsed with `Decimal` for every number with a fraction, so amounts compare to
the cent.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import TracebackType
from typing import Any

import httpx

from .jsonio import loads


class SnelStartControl:
    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)

    async def __aenter__(self) -> SnelStartControl:
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
        return loads(response.content) if response.content else None

    # ------------------------------------------------------------------ state
    async def reset(self) -> None:
        """Back to the demo data: keys, tokens, limits, counters and faults too (not the clock)."""
        await self._request("POST", "/reset")

    async def identity(self) -> dict[str, Any]:
        """DEMO as JSON: keys, administrations, account table, relatie ids."""
        return await self._request("GET", "/identity")

    async def advance_clock(self, seconds: float) -> str:
        """Move the sandbox clock forward (3600 s outlives every token); returns the new now."""
        return (await self._request("POST", "/clock", json={"advance_seconds": seconds}))["now"]

    # ------------------------------------------------------------------ credentials
    async def revoke_koppelsleutel(self, koppelsleutel: str) -> None:
        """The customer deletes the koppeling: token requests with it → 400, its tokens → 401."""
        await self._request("POST", "/koppelsleutels/revoke", json={"koppelsleutel": koppelsleutel})

    async def regenerate_koppelsleutel(self, koppelsleutel: str) -> str:
        """The customer regenerates the key; returns the new one (the old one is revoked)."""
        answer = await self._request(
            "POST", "/koppelsleutels/regenerate", json={"koppelsleutel": koppelsleutel}
        )
        return str(answer["koppelsleutel"])

    async def set_scopes(self, koppelsleutel: str, scopes: list[str]) -> None:
        """Scopes of tokens issued from now on for this key (missing scope → 403)."""
        await self._request(
            "POST",
            "/koppelsleutels/scopes",
            json={"koppelsleutel": koppelsleutel, "scopes": scopes},
        )

    async def expire_tokens(self) -> None:
        """Every issued token expires now (→ 401 until a new one is fetched)."""
        await self._request("POST", "/tokens/expire")

    # ------------------------------------------------------------------ limits, latency, faults
    async def set_rate_limits(
        self,
        per_minute: int | None = 100,
        per_hour: int | None = 1000,
        concurrent: int | None = 5,
        *,
        administratie_id: str | None = None,
    ) -> None:
        """Calls per minute / hour and concurrent calls per administration (None = no limit);
        for every administration, or one. Resets the windows it changes."""
        await self._request(
            "POST",
            "/limits",
            json={
                "per_minute": per_minute,
                "per_hour": per_hour,
                "concurrent": concurrent,
                "administratie_id": administratie_id,
            },
        )

    async def set_latency(self, seconds: float) -> None:
        """Every API call takes this long (inside its concurrency slot)."""
        await self._request("POST", "/options", json={"latency_seconds": seconds})

    async def add_fault(self, **rule: Any) -> None:
        """Add a kit `FaultRule` (status, path regex, method, times, body, headers,
        delay_seconds, timeout). Error faults get an APIM body unless one is given; a 429 gets
        `Retry-After: 1` unless headers say otherwise."""
        status = int(rule.get("status", 500))
        if rule.get("body") is None and not rule.get("timeout"):
            rule["body"] = {"statusCode": status, "message": f"Injected fault {status}"}
        if status == 429:
            rule["headers"] = {"Retry-After": "1", **(rule.get("headers") or {})}
        await self._request("POST", "/faults", json=rule)

    async def clear_faults(self) -> None:
        await self._request("DELETE", "/faults")

    async def faults(self) -> dict[str, Any]:
        return await self._request("GET", "/faults")

    async def calls(self, administratie_id: str | None = None) -> dict[str, int]:
        """API calls per operation (`"POST /verkoopboekingen": 3`, `"POST /b2b/token": 1`),
        for one administration or all (calls without a valid token count under none)."""
        params = {} if administratie_id is None else {"administratie": administratie_id}
        return await self._request("GET", "/calls", params=params)

    # ------------------------------------------------------------------ administration data
    async def bookings(self, administratie_id: str) -> list[dict[str, Any]]:
        """Every verkoopboeking with its lines and VAT, plus `_sandbox`: the derived
        `verkoopfactuur`, `betalingen` and `btwAangifte`."""
        return await self._request("GET", f"/administraties/{administratie_id}/verkoopboekingen")

    async def invoices(self, administratie_id: str) -> list[dict[str, Any]]:
        return await self._request("GET", f"/administraties/{administratie_id}/verkoopfacturen")

    async def relaties(self, administratie_id: str) -> list[dict[str, Any]]:
        return await self._request("GET", f"/administraties/{administratie_id}/relaties")

    async def orders(self, administratie_id: str) -> list[dict[str, Any]]:
        return await self._request("GET", f"/administraties/{administratie_id}/verkooporders")

    async def register_payment(
        self, administratie_id: str, factuurnummer: str, bedrag: Decimal | str | None = None
    ) -> dict[str, Any]:
        """A payment on an invoice (default: the open balance); returns the verkoopfactuur."""
        return await self._request(
            "POST",
            f"/administraties/{administratie_id}/betalingen",
            json={
                "factuurnummer": factuurnummer,
                "bedrag": None if bedrag is None else str(bedrag),
            },
        )

    async def mark_vat_return_filed(
        self, administratie_id: str, verkoopboeking_id: str, filed: bool = True
    ) -> None:
        """The booking is part of a filed VAT return: PUT/DELETE answer BOE-0046."""
        await self._request(
            "POST",
            f"/administraties/{administratie_id}/btwaangifte",
            json={"verkoopboeking_id": verkoopboeking_id, "filed": filed},
        )

    async def tamper_next_booking(self, administratie_id: str, total_delta: str = "1.00") -> None:
        """Test hook: the next booking is stored with its total and first line off by
        `total_delta`, as if someone changed it in SnelStart right after."""
        await self._request(
            "POST",
            f"/administraties/{administratie_id}/tamper",
            json={"total_delta": str(total_delta)},
        )

    async def set_foreign_vat(self, administratie_id: str, enabled: bool) -> None:
        """Toggle `companyInfo.factureerBuitenlandsBtw` (OSS bookings, notes §6.4)."""
        await self._request(
            "POST",
            f"/administraties/{administratie_id}/buitenlandse-btw",
            json={"enabled": enabled},
        )

    async def block_period(
        self, administratie_id: str, tot_en_met: date | None, *, door_accountant: bool = False
    ) -> None:
        """Bookings dated up to `tot_en_met` answer BOE-0042 (BOE-0051 when the accountant
        blocked it); None unblocks."""
        await self._request(
            "POST",
            f"/administraties/{administratie_id}/blokkeren",
            json={
                "tot_en_met": None if tot_en_met is None else tot_en_met.isoformat(),
                "door_accountant": door_accountant,
            },
        )
