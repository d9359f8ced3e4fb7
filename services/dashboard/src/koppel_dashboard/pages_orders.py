"""Koppelingen, Fouten (with Verwerk and Verwerk alle), one order's timeline and
Meld probleem."""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .links import ledger_link, shop_link
from .orders import NEEDS_ATTENTION, OrderState, filter_views, order_view, order_views
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

RETRYABLE = ("failed", "held", "waiting")


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


async def connections_page(request: Request) -> Response:
    account = await current_account(request)
    state = deps(request)
    stored = await state.connections.all()
    visible = sorted(cid for cid in stored if account.may_see(cid))
    documents = await state.readmodel.documents_for(visible)
    alerts = await state.readmodel.connection_alerts(visible)
    rows = []
    for cid in visible:
        views = order_views(cid, documents[cid])
        attention = sum(1 for v in views if v.state in NEEDS_ATTENTION)
        alert = (alerts.get(cid) or {}).get("state") or {}
        broken = alert if alert.get("kind") == "connection_broken" else None
        rows.append({"id": cid, "settings": stored[cid], "attention": attention, "broken": broken})
    return render(request, "connections.html", account=account, rows=rows)


async def failures_page(request: Request) -> Response:
    account = await current_account(request)
    cid = request.path_params["connection_id"]
    settings, _ = await visible_connection(request, account, cid)
    state = deps(request)
    chosen = [s for s in request.query_params.getlist("state") if s in RETRYABLE]
    states = [OrderState(s) for s in (chosen or RETRYABLE)]
    since = _day(request.query_params.get("since"))
    views = order_views(cid, await state.readmodel.connection_documents(cid))
    alert = ((await state.readmodel.connection_alert(cid)) or {}).get("state") or {}
    return render(
        request,
        "failures.html",
        account=account,
        connection_id=cid,
        tab="failures",
        settings=settings,
        orders=filter_views(views, states, since),
        states=[str(s) for s in states],
        since=since.isoformat() if since else "",
        broken=alert if alert.get("kind") == "connection_broken" else None,
    )


async def retry_order(request: Request) -> Response:
    account = await current_account(request)
    cid, ref = request.path_params["connection_id"], request.path_params["order_ref"]
    await visible_connection(request, account, cid)
    form = await checked_form(request)
    state = deps(request)
    docs = await state.readmodel.order_documents(cid, ref)
    view = order_view(cid, ref, docs)
    if view is None:
        raise NotFound
    command = await state.commands.retry_order(cid, ref, account.email)
    await state.readmodel.record_action(
        command.event_id,
        cid,
        ref,
        "retry",
        account.email,
        {"topic": "ledger.commands.v1", "payload": command.model_dump(mode="json")},
    )
    log.info("retry requested", extra={"connection_id": cid, "order_ref": ref})
    flash(request, "failures.retry_sent", order=view.order_number)
    back = str(form.get("back") or "")
    return redirect(back if back.startswith("/connections/") else f"/connections/{cid}/failures")


async def retry_orders(request: Request) -> Response:
    account = await current_account(request)
    cid = request.path_params["connection_id"]
    await visible_connection(request, account, cid)
    form = await checked_form(request)
    states = [str(s) for s in form.getlist("state") if s in RETRYABLE] or ["failed"]
    since = _day(str(form.get("since") or ""))
    await deps(request).commands.retry_orders(cid, states, since, account.email)
    log.info("retry of a filter requested", extra={"connection_id": cid, "states": states})
    t_states = ", ".join(states)
    since_text = f" ({since.isoformat()})" if since else ""
    flash(request, "failures.retry_all_sent", states=t_states, since=since_text)
    query = "&".join(f"state={s}" for s in states)
    return redirect(f"/connections/{cid}/failures?{query}")


async def order_page(request: Request) -> Response:
    account = await current_account(request)
    cid, ref = request.path_params["connection_id"], request.path_params["order_ref"]
    settings, _ = await visible_connection(request, account, cid)
    state = deps(request)
    view = order_view(cid, ref, await state.readmodel.order_documents(cid, ref))
    if view is None:
        raise NotFound
    entries: list[dict[str, Any]] = []
    for item in view.timeline():
        summary = dict(item.get("summary") or {})
        entries.append(
            {
                **item,
                "params": {"revision": summary.get("revision", ""), "by": summary.get("by", "")},
                "summary": summary,
                "json": json.dumps(item.get("payload"), indent=2, ensure_ascii=False, default=str),
            }
        )
    return render(
        request,
        "order.html",
        account=account,
        connection_id=cid,
        tab="failures",
        settings=settings,
        view=view,
        entries=entries,
        shop_url=shop_link(state.settings.shop_links, settings, view),
        ledger_url=ledger_link(state.settings.ledger_links, settings, view),
    )


async def report_problem(request: Request) -> Response:
    account = await current_account(request)
    cid, ref = request.path_params["connection_id"], request.path_params["order_ref"]
    settings, _ = await visible_connection(request, account, cid)
    form = await checked_form(request)
    state = deps(request)
    docs = await state.readmodel.order_documents(cid, ref)
    view = order_view(cid, ref, docs)
    if view is None:
        raise NotFound
    case_id = await state.cases.open(
        view=view,
        merchant_name=settings.merchant.name,
        message=str(form.get("message") or ""),
        by=account.email,
    )
    await state.readmodel.record_action(
        f"case-{case_id}", cid, ref, "report", account.email, {"case": case_id}
    )
    log.info("support case opened", extra={"connection_id": cid, "case": case_id})
    flash(request, "order.report_sent", case=case_id)
    return redirect(f"/connections/{cid}/orders/{ref}")


async def connection_home(request: Request) -> Response:
    return redirect(f"/connections/{request.path_params['connection_id']}/failures")


ROUTES = [
    Route("/connections", connections_page),
    Route("/connections/{connection_id}", connection_home),
    Route("/connections/{connection_id}/failures", failures_page),
    Route("/connections/{connection_id}/retry", retry_orders, methods=["POST"]),
    Route("/connections/{connection_id}/orders/{order_ref}", order_page),
    Route("/connections/{connection_id}/orders/{order_ref}/retry", retry_order, methods=["POST"]),
    Route(
        "/connections/{connection_id}/orders/{order_ref}/report", report_problem, methods=["POST"]
    ),
]
