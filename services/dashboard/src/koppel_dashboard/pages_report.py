"""Rapportage and its CSV export."""

from __future__ import annotations

from datetime import date, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .formatting import ZONE
from .orders import order_views
from .reports import Period, build_report, default_range, orders_csv, report_csv
from .web import current_account, deps, render, visible_connection


def _range(request: Request) -> tuple[Period, date, date]:
    try:
        period = Period(request.query_params.get("period", "day"))
    except ValueError:
        period = Period.DAY
    start, end = default_range(period, datetime.now(ZONE).date())
    try:
        start = date.fromisoformat(request.query_params.get("from") or start.isoformat())
        end = date.fromisoformat(request.query_params.get("to") or end.isoformat())
    except ValueError:
        pass
    if end < start:
        start, end = end, start
    if (end - start).days > 3 * 366:  # a bound on the work one page does
        start = date(end.year - 3, end.month, 1)
    return period, start, end


async def report_page(request: Request) -> Response:
    account = await current_account(request)
    cid = request.path_params["connection_id"]
    settings, _ = await visible_connection(request, account, cid)
    period, start, end = _range(request)
    views = order_views(cid, await deps(request).readmodel.connection_documents(cid))
    report = build_report(views, period, start, end)
    daily = build_report(views, Period.DAY, start, end) if period is not Period.DAY else report
    query = f"period={period}&from={start.isoformat()}&to={end.isoformat()}"
    return render(
        request,
        "report.html",
        account=account,
        connection_id=cid,
        tab="report",
        settings=settings,
        report=report,
        daily=daily,
        query=query,
    )


async def report_download(request: Request) -> Response:
    account = await current_account(request)
    cid = request.path_params["connection_id"]
    await visible_connection(request, account, cid)
    period, start, end = _range(request)
    views = order_views(cid, await deps(request).readmodel.connection_documents(cid))
    if request.query_params.get("level") == "orders":
        chosen = [v for v in views if v.placed_on and start <= v.placed_on <= end]
        body, name = (
            orders_csv(sorted(chosen, key=lambda v: (v.placed_on, v.order_number))),
            "orders",
        )
    else:
        body, name = report_csv(build_report(views, period, start, end)), f"report-{period}"
    filename = f"koppel-{cid}-{name}-{start.isoformat()}-{end.isoformat()}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


ROUTES = [
    Route("/connections/{connection_id}/report", report_page),
    Route("/connections/{connection_id}/report.csv", report_download),
]
