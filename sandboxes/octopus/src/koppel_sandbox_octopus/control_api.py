"""`/_control/...`: the sandbox's own test hooks (not part of Octopus), never subject to
tokens, quota or faults; errors leave in Octopus' error shape. `OctopusControl`
(control.py) is the client."""

from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation
from typing import Any

from koppel_sandbox_kit import ControlApi, RouteSpec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from . import documents as D
from . import errors as E
from .demo import DEMO
from .errors import OctopusError, bad
from .jsonio import OCTOPUS_JSON
from .state import Dossier, OctopusState, Tamper


class _OctopusControlApi(ControlApi):
    def error_answer(self, error: Exception) -> Response | None:
        if isinstance(error, OctopusError):
            return self.json(error.body(), error.status, error.headers)
        return None


def _not_an_object() -> Exception:
    return bad(E.BAD_REQUEST, "control body must be an object", "")


API = _OctopusControlApi(OCTOPUS_JSON, not_an_object=_not_an_object)


def _dec(value: Any, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise bad(E.BAD_REQUEST, f"invalid {name}", repr(value)) from None


def _invoice_with_totals(dossier: Dossier, record) -> dict[str, Any]:
    data = copy.deepcopy(record.data)
    totals = D.invoice_totals(dossier, record.data)
    data["_sandbox"] = {
        "booked": record.booked,
        "totalExclVat": totals.net,
        "totalVat": totals.vat,
        "totalInclVat": totals.total,
    }
    return data


def control_routes(state: OctopusState) -> list[BaseRoute]:
    def dossier(request: Request) -> Dossier:
        try:
            return state.dossiers[int(request.path_params["d"])]
        except (KeyError, ValueError):
            raise OctopusError(404, E.NOT_FOUND, "Dossier niet gevonden", "") from None

    async def password(request: Request) -> Response:
        data = await API.body(request)
        try:
            state.set_password(str(data["user"]), str(data["password"]))
        except KeyError:
            raise OctopusError(404, E.NOT_FOUND, "unknown user", repr(data.get("user"))) from None
        return Response(status_code=204)

    async def expire(_: Request) -> Response:
        state.expire_tokens()
        return Response(status_code=204)

    async def documents(request: Request) -> Response:
        d = dossier(request)
        kind = request.path_params["kind"]
        if kind == "invoices":
            return API.json([_invoice_with_totals(d, r) for _, r in sorted(d.invoices.items())])
        table = {
            "buysellbookings": d.buysell,
            "financialdiversbookings": d.financial,
            "relations": d.relations,
        }.get(kind)
        if table is None:
            raise OctopusError(404, E.NOT_FOUND, "unknown kind", kind)
        return API.json([r.data for _, r in sorted(table.items())])

    async def calls(request: Request) -> Response:
        raw = request.query_params.get("dossierId")
        return API.json(state.call_counts(int(raw) if raw else None))

    async def quota(request: Request) -> Response:
        data = await API.body(request)
        limit = data.get("calls_per_endpoint_per_day")
        state.set_quota(None if limit is None else int(limit))
        return API.json({"calls_per_endpoint_per_day": state.quota})

    async def tamper(request: Request) -> Response:
        data = await API.body(request)
        rid = data.get("relation_id")
        state.tamper = Tamper(
            _dec(data.get("total_delta", "1.00"), "total_delta"), None if rid is None else int(rid)
        )
        return Response(status_code=204)

    async def periods(request: Request) -> Response:
        d, data = dossier(request), await API.body(request)
        nr = int(data["bookyearPeriodeNr"])
        if data.get("closed", True):
            d.closed_periods.add(nr)
        else:
            d.closed_periods.discard(nr)
        return API.json({"closedPeriods": sorted(d.closed_periods)})

    async def journals(request: Request) -> Response:
        d, data = dossier(request), await API.body(request)
        key, by_id = str(data["journalKey"]), data.get("bookyearId")
        found = [j for (b, k), j in d.journals.items() if k == key and by_id in (None, b)]
        if not found:
            raise OctopusError(404, E.NOT_FOUND, "unknown journal", key)
        for journal in found:
            journal.closed = bool(data.get("closed", True))
        return Response(status_code=204)

    async def invoice_module(request: Request) -> Response:
        d, data = dossier(request), await API.body(request)
        d.invoice_module = bool(data.get("enabled", True))
        return Response(status_code=204)

    async def options(request: Request) -> Response:
        data = await API.body(request)
        if "amount_tolerance" in data:
            state.amount_tolerance = _dec(data["amount_tolerance"], "amount_tolerance")
        if "vat_tolerance" in data:
            state.vat_tolerance = _dec(data["vat_tolerance"], "vat_tolerance")
        return API.json(
            {
                "amount_tolerance": str(state.amount_tolerance),
                "vat_tolerance": str(state.vat_tolerance),
            }
        )

    routes: list[RouteSpec] = [
        *API.seeded_routes(state, demo_identity_json),
        ("/password", password, "POST"),
        ("/tokens/expire", expire, "POST"),
        ("/calls", calls, "GET"),
        ("/quota", quota, "POST"),
        ("/tamper", tamper, "POST"),
        ("/options", options, "POST"),
        ("/dossiers/{d}/periods", periods, "POST"),
        ("/dossiers/{d}/journals", journals, "POST"),
        ("/dossiers/{d}/invoice-module", invoice_module, "POST"),
        ("/dossiers/{d}/{kind}", documents, "GET"),
    ]
    return API.routes(routes, state.faults)


def demo_identity_json() -> dict[str, Any]:
    return {
        "software_house_uuid": DEMO.software_house_uuid,
        "user": DEMO.user,
        "password": DEMO.password,
        "dossier_id": DEMO.dossier_id,
        "second_dossier_id": DEMO.second_dossier_id,
        "foreign_dossier_id": DEMO.foreign_dossier_id,
        "journal_sales": DEMO.journal_sales,
        "journal_purchases": DEMO.journal_purchases,
        "journal_financial": DEMO.journal_financial,
        "journal_divers": DEMO.journal_divers,
        "accounts": dict(DEMO.accounts),
        "vat_codes": dict(DEMO.vat_codes),
        "relations": dict(DEMO.relations),
    }
