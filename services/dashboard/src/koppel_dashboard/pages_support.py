"""The support view: every case, and one case with the order's timeline as it was sent."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .web import NotFound, current_account, deps, render


async def cases_page(request: Request) -> Response:
    account = await current_account(request)
    if not account.is_support:
        raise NotFound
    cases = await deps(request).cases.all()
    return render(request, "cases.html", account=account, cases=cases)


async def case_page(request: Request) -> Response:
    account = await current_account(request)
    case = await deps(request).cases.get(request.path_params["case_id"])
    if case is None or not account.is_support:
        raise NotFound
    for item in case["timeline"]:
        item["json"] = json.dumps(item.get("payload"), indent=2, ensure_ascii=False, default=str)
    return render(request, "case.html", account=account, case=case)


ROUTES = [
    Route("/support/cases", cases_page),
    Route("/support/cases/{case_id}", case_page),
]
