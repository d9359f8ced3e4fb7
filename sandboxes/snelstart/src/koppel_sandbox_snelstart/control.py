"""`SnelStartControl`: the async client of the sandbox's `/_control` API, for this package's
tests and for the tests of services that talk to SnelStart (ledger-snelstart).

Answers are parsed with `Decimal` for every number with a fraction, so amounts compare to
the cent.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from koppel_sandbox_kit import SeededControl

from .jsonio import SNELSTART_JSON


class SnelStartControl(SeededControl):
    codec = SNELSTART_JSON

    # ------------------------------------------------------------------ credentials
    async def revoke_koppelsleutel(self, koppelsleutel: str) -> None:
        """The customer deletes the koppeling: token requests with it → 400, its tokens → 401."""
        await self._call("POST", "/koppelsleutels/revoke", {"koppelsleutel": koppelsleutel})

    async def regenerate_koppelsleutel(self, koppelsleutel: str) -> str:
        """The customer regenerates the key; returns the new one (the old one is revoked)."""
        answer = await self._call(
            "POST", "/koppelsleutels/regenerate", {"koppelsleutel": koppelsleutel}
        )
        return str(answer["koppelsleutel"])

    async def set_scopes(self, koppelsleutel: str, scopes: list[str]) -> None:
        """Scopes of tokens issued from now on for this key (missing scope → 403)."""
        await self._call(
            "POST",
            "/koppelsleutels/scopes",
            {"koppelsleutel": koppelsleutel, "scopes": scopes},
        )

    async def expire_tokens(self) -> None:
        """Every issued token expires now (→ 401 until a new one is fetched)."""
        await self._call("POST", "/tokens/expire")

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
        await self._call(
            "POST",
            "/limits",
            {
                "per_minute": per_minute,
                "per_hour": per_hour,
                "concurrent": concurrent,
                "administratie_id": administratie_id,
            },
        )

    async def set_latency(self, seconds: float) -> None:
        """Every API call takes this long (inside its concurrency slot)."""
        await self._call("POST", "/options", {"latency_seconds": seconds})

    def _fault_body(self, status: int) -> Any:
        return {"statusCode": status, "message": f"Injected fault {status}"}  # APIM's shape

    async def calls(self, administratie_id: str | None = None) -> dict[str, int]:
        """API calls per operation (`"POST /verkoopboekingen": 3`, `"POST /b2b/token": 1`),
        for one administration or all (calls without a valid token count under none)."""
        params = {} if administratie_id is None else {"administratie": administratie_id}
        return await self._call("GET", "/calls", params=params)

    # ------------------------------------------------------------------ administration data
    async def bookings(self, administratie_id: str) -> list[dict[str, Any]]:
        """Every verkoopboeking with its lines and VAT, plus `_sandbox`: the derived
        `verkoopfactuur`, `betalingen` and `btwAangifte`."""
        return await self._call("GET", f"/administraties/{administratie_id}/verkoopboekingen")

    async def invoices(self, administratie_id: str) -> list[dict[str, Any]]:
        return await self._call("GET", f"/administraties/{administratie_id}/verkoopfacturen")

    async def relaties(self, administratie_id: str) -> list[dict[str, Any]]:
        return await self._call("GET", f"/administraties/{administratie_id}/relaties")

    async def orders(self, administratie_id: str) -> list[dict[str, Any]]:
        return await self._call("GET", f"/administraties/{administratie_id}/verkooporders")

    async def register_payment(
        self, administratie_id: str, factuurnummer: str, bedrag: Decimal | str | None = None
    ) -> dict[str, Any]:
        """A payment on an invoice (default: the open balance); returns the verkoopfactuur."""
        return await self._call(
            "POST",
            f"/administraties/{administratie_id}/betalingen",
            {
                "factuurnummer": factuurnummer,
                "bedrag": None if bedrag is None else str(bedrag),
            },
        )

    async def mark_vat_return_filed(
        self, administratie_id: str, verkoopboeking_id: str, filed: bool = True
    ) -> None:
        """The booking is part of a filed VAT return: PUT/DELETE answer BOE-0046."""
        await self._call(
            "POST",
            f"/administraties/{administratie_id}/btwaangifte",
            {"verkoopboeking_id": verkoopboeking_id, "filed": filed},
        )

    async def tamper_next_booking(self, administratie_id: str, total_delta: str = "1.00") -> None:
        """Test hook: the next booking is stored with its total and first line off by
        `total_delta`, as if someone changed it in SnelStart right after."""
        await self._call(
            "POST",
            f"/administraties/{administratie_id}/tamper",
            {"total_delta": str(total_delta)},
        )

    async def set_foreign_vat(self, administratie_id: str, enabled: bool) -> None:
        """Toggle `companyInfo.factureerBuitenlandsBtw` (OSS bookings, notes §6.4)."""
        await self._call(
            "POST",
            f"/administraties/{administratie_id}/buitenlandse-btw",
            {"enabled": enabled},
        )

    async def block_period(
        self, administratie_id: str, tot_en_met: date | None, *, door_accountant: bool = False
    ) -> None:
        """Bookings dated up to `tot_en_met` answer BOE-0042 (BOE-0051 when the accountant
        blocked it); None unblocks."""
        await self._call(
            "POST",
            f"/administraties/{administratie_id}/blokkeren",
            {
                "tot_en_met": None if tot_en_met is None else tot_en_met.isoformat(),
                "door_accountant": door_accountant,
            },
        )
