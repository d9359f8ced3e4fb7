"""The HTTP face of the sandbox: Octopus' REST paths (served both at the root
and under `/octopus-rest-api/v1`, the real base path) plus `/_control/...`.

Every API request is counted, authenticated (two tokens), checked against the
daily per-endpoint quota and then handled; errors always leave as
`{"errorCode", "errorMessage", "technicalInfo"}`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from koppel_sandbox_kit import FaultMiddleware
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from . import documents as D
from . import errors as E
from .control_api import control_routes
from .errors import OctopusError, bad, error_body
from .jsonio import dumps, loads
from .state import Dossier, OctopusState, Tamper, Token

log = logging.getLogger("koppel_sandbox_octopus")

API_BASE = "/octopus-rest-api/v1"


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(dumps(payload), status, headers, media_type="application/json")


def error_response(exc: OctopusError) -> Response:
    return json_response(exc.body(), exc.status, exc.headers)


@dataclass
class Call:
    request: Request
    state: OctopusState
    query: dict[str, str]
    dossier: Dossier | None = None
    token: Token | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    async def body(self) -> Any:
        raw = await self.request.body()
        if not raw.strip():
            return None
        try:
            return loads(raw)
        except ValueError as exc:
            raise bad(E.BAD_REQUEST, "Ongeldige JSON", str(exc)) from None

    @property
    def d(self) -> Dossier:
        assert self.dossier is not None
        return self.dossier


Handler = Callable[[Call], Awaitable[Response]]


# ---------------------------------------------------------------------------- authentication
async def authentication_post(call: Call) -> Response:
    body = await call.body()
    if not isinstance(body, dict):
        raise bad(E.BAD_REQUEST, "Gebruiker en wachtwoord ontbreken", 'body {"user","password"}')
    login = body.get("user", body.get("username"))
    password = body.get("password")
    if not isinstance(login, str) or not isinstance(password, str):
        raise bad(E.FIELD_MISSING, "Gebruiker en wachtwoord ontbreken", 'body {"user","password"}')
    token = call.state.authenticate(call.request.headers.get("softwareHouseUuid"), login, password)
    return json_response({"token": token})


async def authentication_get(call: Call) -> Response:
    assert call.token is not None
    user = call.state.users[call.token.user]
    return json_response({"user": user.login, "name": user.name, "dossierIds": user.dossier_ids})


async def dossiers_get(call: Call) -> Response:
    assert call.token is not None
    user = call.state.users[call.token.user]
    return json_response(
        [call.state.dossiers[d].summary() for d in user.dossier_ids if d in call.state.dossiers]
    )


async def dossiers_post(call: Call) -> Response:
    assert call.token is not None
    raw = call.query.get("dossierId")
    if raw is None:
        body = await call.body()
        if isinstance(body, dict) and body.get("dossierId") is not None:
            raw = str(body["dossierId"])
    if raw is None:
        raise bad(E.FIELD_MISSING, "Parameter dossierId ontbreekt", "POST /dossiers?dossierId=")
    locale = call.query.get("localeId", "1")
    try:
        dossier_id, locale_id = int(raw), int(locale)
    except ValueError:
        raise bad(
            E.BAD_REQUEST, "Ongeldige parameter", f"dossierId={raw!r} localeId={locale!r}"
        ) from None
    if not 0 <= locale_id <= 4:
        raise bad(E.BAD_REQUEST, "Ongeldige localeId", "localeId must be 0..4")
    return json_response({"Dossiertoken": call.state.connect_dossier(call.token, dossier_id)})


# ---------------------------------------------------------------------------- reference data
async def bookyears_get(call: Call) -> Response:
    return json_response(
        [
            {
                "bookyearKey": {"id": by.id},
                "bookyearDescription": by.description,
                "startDate": by.start.isoformat(),
                "endDate": by.end.isoformat(),
                "closed": by.closed,
                "periods": [
                    {
                        "bookyearPeriod": p.nr,
                        "startDate": p.start.isoformat(),
                        "endDate": p.end.isoformat(),
                    }
                    for p in by.periods
                ],
            }
            for by in call.d.bookyears.values()
        ]
    )


def _journal_json(dossier: Dossier, by_id: int, key: str) -> dict[str, Any]:
    journal = dossier.journals[(by_id, key)]
    return {
        "bookyearKey": {"id": by_id},
        "journalKey": key,
        "name": journal.name,
        "closed": journal.closed,
        "closedPeriod": 0,
        "protectedPeriod": 0,
        "insertionType": 0,
        "lastBookedDocumentNr": dossier.last_document_nr(by_id, key),
        "currencyCode": "EUR",
    }


def _path_int(call: Call, name: str) -> int:
    try:
        return int(call.request.path_params[name])
    except ValueError:
        raise bad(E.BAD_REQUEST, f"Ongeldige parameter {name}", "") from None


async def journals_get(call: Call) -> Response:
    by_id = _path_int(call, "bookyearId")
    if by_id not in call.d.bookyears:
        raise bad(E.BOOKYEAR_UNKNOWN, "Boekjaar bestaat niet", f"bookyearId {by_id}")
    return json_response([_journal_json(call.d, b, k) for (b, k) in call.d.journals if b == by_id])


async def journals_modified(call: Call) -> Response:
    since = D.modified_since(call.query)
    return json_response(
        [
            _journal_json(call.d, b, k)
            for (b, k), j in call.d.journals.items()
            if j.modified >= since
        ]
    )


async def vatcodes_get(call: Call) -> Response:
    return json_response(
        [
            {
                "code": v.code,
                "description": v.description,
                "basePercentage": v.percentage.quantize(Decimal("0.1")),
                "type": v.type,
                "defaultSellBookingAccountNr": v.default_account,
            }
            for v in call.d.vat_codes.values()
        ]
    )


def _accounts_json(dossier: Dossier, by_id: int) -> list[dict[str, Any]]:
    return [
        {
            "accountKey": {"id": a.number, "bookyearKey": {"id": by_id}},
            "description": {"description_NL": a.nl, "description_FR": a.fr, "description_EN": a.en},
            "salesVatCode": a.sales_vat_code,
            "purchaseVatCode": a.purchase_vat_code,
            "vatRecupPercentage": Decimal("100.0"),
            "fiscRecupPercentage": Decimal("100.0"),
            "fiscProfessionalPercentage": Decimal("100.0"),
            "costCentreType": 0,
        }
        for a in dossier.accounts.values()
    ]


async def accounts_get(call: Call) -> Response:
    by_id = D._query_int(call.query, "bookyearId")
    if by_id is None or by_id not in call.d.bookyears:
        raise bad(E.BOOKYEAR_UNKNOWN, "Boekjaar ontbreekt of bestaat niet", "?bookyearId=<id>")
    return json_response(_accounts_json(call.d, by_id))


async def accounts_modified(call: Call) -> Response:
    since = D.modified_since(call.query)
    if call.d.created < since:
        return json_response([])
    return json_response([a for by in call.d.bookyears for a in _accounts_json(call.d, by)])


# ---------------------------------------------------------------------------- relations
async def relations_get(call: Call) -> Response:
    return json_response(D.filter_relations(call.d, call.query))


async def relations_put(call: Call) -> Response:
    record, _created = D.upsert_relation(call.state, call.d, await call.body())
    return json_response(
        {"relationIdentificationServiceData": record.data["relationIdentificationServiceData"]}
    )


async def relations_modified(call: Call) -> Response:
    since = D.modified_since(call.query)
    return json_response([r.data for r in call.d.relations.values() if r.modified >= since])


# ---------------------------------------------------------------------------- buy/sell bookings
def _apply_tamper(call: Call, fn: Callable[[Dossier, dict[str, Any], Tamper], None], data) -> None:
    tamper = D.take_tamper(call.state)
    if tamper is not None:
        fn(call.d, data, tamper)


async def buysell_post(call: Call) -> Response:
    data, _attachments = D.unwrap(await call.body(), "buySellBookingServiceData", required=True)
    key, stored = D.validate_buysell(call.state, call.d, data, new=True)
    _apply_tamper(call, D.tamper_buysell, stored)
    D.store(call.state, call.d, call.d.buysell, key, stored)
    return Response(status_code=201)


async def buysell_put(call: Call) -> Response:
    data, _attachments = D.unwrap(await call.body(), "buySellBookingServiceData", required=False)
    key, stored = D.validate_buysell(call.state, call.d, data, new=False)
    D.store(call.state, call.d, call.d.buysell, key, stored)
    return Response(status_code=200)


async def buysell_get(call: Call) -> Response:
    return json_response(D.select(call.d.buysell, call.query))


async def buysell_modified(call: Call) -> Response:
    return json_response(D.select_modified(call.d.buysell, call.query))


# ---------------------------------------------------------------------------- invoices
async def invoices_post(call: Call) -> Response:
    D.require_invoice_module(call.d)
    key, stored = D.validate_invoice(call.state, call.d, await call.body(), new=True)
    _apply_tamper(call, D.tamper_invoice, stored)
    D.store(call.state, call.d, call.d.invoices, key, stored, booked=False)
    return Response(status_code=201)


async def invoices_put(call: Call) -> Response:
    D.require_invoice_module(call.d)
    key, stored = D.validate_invoice(call.state, call.d, await call.body(), new=False)
    D.store(call.state, call.d, call.d.invoices, key, stored, booked=False)
    return Response(status_code=200)


async def invoices_get(call: Call) -> Response:
    D.require_invoice_module(call.d)
    return json_response(D.select(call.d.invoices, call.query))


async def invoices_modified(call: Call) -> Response:
    D.require_invoice_module(call.d)
    return json_response(D.select_modified(call.d.invoices, call.query))


async def invoices_book(call: Call) -> Response:
    return json_response(D.book_invoices(call.state, call.d, call.query))


# ---------------------------------------------------------------------------- financial / divers
async def financial_post(call: Call) -> Response:
    data, _ = D.unwrap(await call.body(), "financialDiversBookingServiceData", required=True)
    key, stored = D.validate_financial(call.state, call.d, data, new=True)
    _apply_tamper(call, D.tamper_financial, stored)
    D.store(call.state, call.d, call.d.financial, key, stored)
    return Response(status_code=201)


async def financial_put(call: Call) -> Response:
    data, _ = D.unwrap(await call.body(), "financialDiversBookingServiceData", required=False)
    key, stored = D.validate_financial(call.state, call.d, data, new=False)
    D.store(call.state, call.d, call.d.financial, key, stored)
    return Response(status_code=200)


async def financial_get(call: Call) -> Response:
    return json_response(D.select(call.d.financial, call.query))


# ---------------------------------------------------------------------------- routing
# auth: None = softwareHouseUuid + credentials, "token" = `Token` header, "dossier" = `dossierToken`
ENDPOINTS: list[tuple[str, str, Handler, str | None]] = [
    ("POST", "/authentication", authentication_post, None),
    ("GET", "/authentication", authentication_get, "token"),
    ("GET", "/dossiers", dossiers_get, "token"),
    ("POST", "/dossiers", dossiers_post, "token"),
    ("GET", "/dossiers/{d}/bookyears", bookyears_get, "dossier"),
    ("GET", "/dossiers/{d}/bookyears/{bookyearId}/journals", journals_get, "dossier"),
    ("GET", "/dossiers/{d}/journals/modified", journals_modified, "dossier"),
    ("GET", "/dossiers/{d}/vatcodes", vatcodes_get, "dossier"),
    ("GET", "/dossiers/{d}/accounts", accounts_get, "dossier"),
    ("GET", "/dossiers/{d}/accounts/modified", accounts_modified, "dossier"),
    ("GET", "/dossiers/{d}/relations", relations_get, "dossier"),
    ("PUT", "/dossiers/{d}/relations", relations_put, "dossier"),
    ("GET", "/dossiers/{d}/relations/modified", relations_modified, "dossier"),
    ("GET", "/dossiers/{d}/buysellbookings", buysell_get, "dossier"),
    ("POST", "/dossiers/{d}/buysellbookings", buysell_post, "dossier"),
    ("PUT", "/dossiers/{d}/buysellbookings", buysell_put, "dossier"),
    ("GET", "/dossiers/{d}/buysellbookings/modified", buysell_modified, "dossier"),
    ("GET", "/dossiers/{d}/invoices", invoices_get, "dossier"),
    ("POST", "/dossiers/{d}/invoices", invoices_post, "dossier"),
    ("PUT", "/dossiers/{d}/invoices", invoices_put, "dossier"),
    ("GET", "/dossiers/{d}/invoices/modified", invoices_modified, "dossier"),
    ("POST", "/dossiers/{d}/invoices/book", invoices_book, "dossier"),
    ("GET", "/dossiers/{d}/financialdiversbookings", financial_get, "dossier"),
    ("POST", "/dossiers/{d}/financialdiversbookings", financial_post, "dossier"),
    ("PUT", "/dossiers/{d}/financialdiversbookings", financial_put, "dossier"),
]


def _endpoint(state: OctopusState, path: str, methods: dict[str, tuple[Handler, str | None]]):
    async def endpoint(request: Request) -> Response:
        handler, auth = methods[request.method]
        name = f"{request.method} {path}"
        call = Call(request, state, dict(request.query_params))
        try:
            dossier_id: int | None = None
            if "d" in request.path_params:
                try:
                    dossier_id = int(request.path_params["d"])
                except ValueError:
                    raise OctopusError(404, E.NOT_FOUND, "Niet gevonden", path) from None
            state.count_call(dossier_id, name)
            if auth == "dossier":
                assert dossier_id is not None
                call.dossier = state.dossier_for(request.headers.get("dossierToken"), dossier_id)
                state.check_quota(f"dossier:{dossier_id}", name)
            elif auth == "token":
                call.token = state.token(request.headers.get("Token"), "auth")
                state.check_quota(f"user:{call.token.user}", name)
            else:
                state.check_quota(f"sh:{request.headers.get('softwareHouseUuid', '-')}", name)
            return await handler(call)
        except OctopusError as exc:
            return error_response(exc)
        except Exception as exc:  # an Octopus 500 with the usual body, and a log line
            log.exception("sandbox error on %s", name)
            return error_response(
                OctopusError(500, E.INTERNAL, "Er is een onverwachte fout opgetreden", repr(exc))
            )

    return endpoint


def api_routes(state: OctopusState) -> list[BaseRoute]:
    by_path: dict[str, dict[str, tuple[Handler, str | None]]] = {}
    for method, path, handler, auth in ENDPOINTS:
        by_path.setdefault(path, {})[method] = (handler, auth)
    return [
        Route(path, _endpoint(state, path, methods), methods=list(methods))
        for path, methods in by_path.items()
    ]


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: E.NOT_FOUND, 405: E.METHOD_NOT_ALLOWED}.get(exc.status_code, E.BAD_REQUEST)
    return json_response(
        error_body(code, "Niet gevonden" if exc.status_code == 404 else exc.detail, ""),
        exc.status_code,
    )


def create_app(state: OctopusState) -> Starlette:
    routes = api_routes(state)
    return Starlette(
        routes=[*control_routes(state), Mount(API_BASE, routes=routes), *routes],
        middleware=[
            Middleware(FaultMiddleware, injector=state.faults),
        ],
        exception_handlers={HTTPException: _http_error},
    )
