"""Configuratie (edit, validate, save a new settings version, "Test verbinding"), Migratie
(historic imports) and the page of one request with its answers as they arrive."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from koppel_contracts import ConnectionSettings, RequestKind
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .accounts import Account
from .commands import answering_component
from .settings_form import (
    EMPTY_ROWS,
    VAT_TABLES,
    Problem,
    apply_form,
    check_against,
    credential_names,
    form_rows,
    table_text,
)
from .web import (
    NotFound,
    checked_form,
    current_account,
    deps,
    flash,
    redirect,
    render,
    visible_connection,
)

log = logging.getLogger(__name__)

FINAL_STATES = ("ok", "failed", "done")


async def _page(
    request: Request,
    account: Account,
    cid: str,
    settings: ConnectionSettings,
    version: int,
    *,
    problems: list[Problem] | None = None,
    form: FormData | None = None,
    status_code: int = 200,
) -> Response:
    state = deps(request)
    ledger_catalog = await state.readmodel.catalog(cid, "ledger")
    shop_catalog = await state.readmodel.catalog(cid, "shop")
    data = settings.model_dump(mode="json")
    applied = await state.readmodel.applied_versions(cid)
    tests = [
        *await state.commands.requests_of(cid, RequestKind.TEST_SHOP),
        *await state.commands.requests_of(cid, RequestKind.TEST_LEDGER),
    ]
    source: Any = form if form is not None else None
    vat_rows = (
        form_rows(source, "vat", ("rate", "treatment", "country", "account", "code"))
        if source is not None
        else [
            {
                "rate": m["vat_rate"],
                "treatment": m["treatment"],
                "country": m["country_code"] or "",
                "account": m["ledger_account"],
                "code": m["vat_code"],
            }
            for m in data["ledger"]["booking"]["vat_accounts"]
        ]
    )
    debtor_rows = (
        form_rows(source, "debtor", ("method", "debtor"))
        if source is not None
        else [
            {"method": k, "debtor": v}
            for k, v in data["ledger"]["booking"]["payment_method_debtors"].items()
        ]
    )
    return render(
        request,
        "settings.html",
        status_code,
        account=account,
        connection_id=cid,
        tab="settings",
        settings=settings,
        data=data,
        version=version,
        problems=problems or [],
        warnings=check_against(settings, ledger_catalog, shop_catalog) if not problems else [],
        ledger_catalog=ledger_catalog,
        shop_catalog=shop_catalog,
        applied=sorted(applied.items()),
        tests=sorted(tests, key=lambda d: d["at"], reverse=True)[:5],
        empty_rows=EMPTY_ROWS,
        vat_tables=VAT_TABLES,
        table_text=table_text,
        shop_credentials=credential_names(data["shop"]),
        ledger_credentials=credential_names(data["ledger"]),
        form=form,
        vat_rows=vat_rows,
        debtor_rows=debtor_rows,
    )


async def settings_page(request: Request) -> Response:
    account = await current_account(request)
    cid = request.path_params["connection_id"]
    settings, version = await visible_connection(request, account, cid)
    return await _page(request, account, cid, settings, version)


async def save_settings(request: Request) -> Response:
    account = await current_account(request)
    cid = request.path_params["connection_id"]
    current, version = await visible_connection(request, account, cid)
    form = await checked_form(request)
    state = deps(request)
    if str(form.get("base_version")) != str(version):
        problems = [Problem("", "settings.changed_meanwhile", {"version": version})]
        return await _page(
            request, account, cid, current, version, problems=problems, status_code=409
        )
    wanted, problems = apply_form(current, form, state.sealer)
    if wanted is None:
        return await _page(
            request, account, cid, current, version, problems=problems, form=form, status_code=422
        )
    # Refused when it contradicts what the ledger or shop reported: accounts and VAT
    # codes that do not exist, a VAT code of another percentage.
    mismatches = check_against(
        wanted,
        await state.readmodel.catalog(cid, "ledger"),
        await state.readmodel.catalog(cid, "shop"),
    )
    if mismatches:
        return await _page(
            request, account, cid, wanted, version, problems=mismatches, form=form, status_code=422
        )
    event = await state.commands.publish_settings(cid, wanted, version)
    # Our own copy at once, so the page shows the new version (the topic brings the same).
    await state.connections.apply(event)
    log.info(
        "settings saved",
        extra={"connection_id": cid, "version": event.version, "account": account.email},
    )
    flash(request, "settings.saved", version=event.version)
    return redirect(f"/connections/{cid}/settings")


async def test_connection(request: Request) -> Response:
    """Test the shop or the ledger with the settings as they are in the form (unsaved)."""
    account = await current_account(request)
    cid = request.path_params["connection_id"]
    current, version = await visible_connection(request, account, cid)
    form = await checked_form(request)
    state = deps(request)
    wanted, problems = apply_form(current, form, state.sealer)
    if wanted is None:
        return await _page(
            request, account, cid, current, version, problems=problems, form=form, status_code=422
        )
    kind = RequestKind.TEST_LEDGER if form.get("target") == "ledger" else RequestKind.TEST_SHOP
    request_id = await state.commands.request(
        cid,
        kind,
        account.email,
        settings=wanted,
        component=answering_component(kind, wanted),
    )
    return redirect(f"/connections/{cid}/requests/{request_id}")


async def request_page(request: Request) -> Response:
    account = await current_account(request)
    cid = request.path_params["connection_id"]
    await visible_connection(request, account, cid)
    state = deps(request)
    found = await state.commands.find_request(cid, request.path_params["request_id"])
    if found is None:
        raise NotFound
    answers = await state.readmodel.answers_for(found["_id"])
    finished = bool(answers) and all(a["state"] in FINAL_STATES for a in answers.values())
    template = "_answers.html" if request.headers.get("hx-request") else "request.html"
    return render(
        request,
        template,
        account=account,
        connection_id=cid,
        tab="migration" if found["kind"] == "migrate" else "settings",
        found=found,
        answers=sorted(answers.items()),
        finished=finished,
    )


async def migration_page(request: Request) -> Response:
    account = await current_account(request)
    cid = request.path_params["connection_id"]
    settings, _ = await visible_connection(request, account, cid)
    state = deps(request)
    runs: list[dict[str, Any]] = []
    for found in (await state.commands.requests_of(cid, RequestKind.MIGRATE))[:20]:
        runs.append({"request": found, "answers": await state.readmodel.answers_for(found["_id"])})
    return render(
        request,
        "migration.html",
        account=account,
        connection_id=cid,
        tab="migration",
        settings=settings,
        runs=runs,
        problem=None,
    )


async def start_migration(request: Request) -> Response:
    account = await current_account(request)
    cid = request.path_params["connection_id"]
    settings, _ = await visible_connection(request, account, cid)
    form = await checked_form(request)
    try:
        since = date.fromisoformat(str(form.get("since") or ""))
        until_text = str(form.get("until") or "")
        until = date.fromisoformat(until_text) if until_text else None
    except ValueError:
        return render(
            request,
            "migration.html",
            422,
            account=account,
            connection_id=cid,
            tab="migration",
            settings=settings,
            runs=[],
            problem="migration.need_since",
        )
    dry_run = str(form.get("dry_run") or "") in ("on", "true", "1")
    request_id = await deps(request).commands.request(
        cid,
        RequestKind.MIGRATE,
        account.email,
        settings=None,
        since=since,
        until=until,
        dry_run=dry_run,
        component=answering_component(RequestKind.MIGRATE, settings),
    )
    log.info("import requested", extra={"connection_id": cid, "dry_run": dry_run})
    return redirect(f"/connections/{cid}/requests/{request_id}")


ROUTES = [
    Route("/connections/{connection_id}/settings", settings_page, methods=["GET"]),
    Route("/connections/{connection_id}/settings", save_settings, methods=["POST"]),
    Route("/connections/{connection_id}/settings/test", test_connection, methods=["POST"]),
    Route("/connections/{connection_id}/requests/{request_id}", request_page),
    Route("/connections/{connection_id}/migration", migration_page, methods=["GET"]),
    Route("/connections/{connection_id}/migration", start_migration, methods=["POST"]),
]
