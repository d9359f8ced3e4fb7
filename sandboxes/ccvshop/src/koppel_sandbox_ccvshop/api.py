"""The REST API under /api/rest/v1: signature check, rate limits, resources.

Order of checks, as a client experiences CCV: the signature (401), then the
rate limit (429), then the resource (404 / 405) — each refusal a JSON error
`{code, status, developermessage}` (ccvshop.md §9). Every answer to a caller
with a valid key is signed with `x-date` + `x-hash` over the response body.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from . import render
from .defaults import PAYMETHODS
from .jsontext import dumps, loads
from .signing import format_date, parse_date, request_signature, same
from .state import CcvShopState, NotFound, Order
from .webhooks import WebhookSender

PREFIX = "/api/rest/v1"
KNOWN_RESOURCES = {
    "orders",
    "orderrows",
    "webhooks",
    "paymethods",
    "users",
    "invoices",
    "invoicerows",
    "webshops",
    "apps",
    "products",
}


# Methods CCV has on these resources (§3) that the sandbox does not model.
UNIMPLEMENTED = {
    ("orders", "POST"),
    ("orderrows", "PUT"),
    ("orderrows", "PATCH"),
    ("orderrows", "DELETE"),
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "status": self.status, "developermessage": self.message}


def error_response(error: ApiError) -> Response:
    return Response(dumps(error.body()), error.status, media_type="application/json")


def request_uri(request: Request) -> str:
    """Path plus query exactly as sent: what the client signed."""
    raw: bytes = request.scope.get("raw_path") or request.url.path.encode()
    query: bytes = request.scope.get("query_string", b"")
    return raw.decode("latin-1") + (f"?{query.decode('latin-1')}" if query else "")


def authenticate(state: CcvShopState, request: Request, uri: str, body: str) -> tuple[str, str]:
    """The caller's (public, secret) when the request is signed correctly; else ApiError."""
    refused = state.config.auth_failure_status
    public = request.headers.get("x-public")
    date = request.headers.get("x-date")
    given = request.headers.get("x-hash")
    if not public or not date or not given:
        raise ApiError(refused, f"{refused}.10", "Missing x-public, x-date or x-hash header.")
    creds = state.credentials.get(public)
    if creds is None:
        raise ApiError(refused, f"{refused}.10", "Unknown public key.")
    moment = parse_date(date)
    if moment is None:
        raise ApiError(refused, f"{refused}.20", f"x-date {date!r} is not an ISO-8601 timestamp.")
    skew = abs((state.clock() - moment).total_seconds())
    if skew > state.config.max_clock_skew_seconds:
        raise ApiError(
            refused,
            f"{refused}.20",
            f"x-date is {int(skew)} seconds away from the server time; the request is stale.",
        )
    expected = request_signature(creds.secret, public, request.method, uri, body, date)
    if not same(expected.lower(), given.lower()):
        raise ApiError(refused, f"{refused}.10", "The x-hash does not match the request.")
    return creds.public, creds.secret


def rate_limit_resource(segments: list[str]) -> str:
    """The resource a limit counts against: the last non-numeric path segment."""
    names = [s for s in segments if not s.isdigit()]
    return names[-1] if names else "root"


class Api:
    def __init__(self, state: CcvShopState, sender: WebhookSender) -> None:
        self.state = state
        self.sender = sender

    async def handle(self, request: Request) -> Response:
        state = self.state
        state.counters["requests"] += 1
        state.base_url = str(request.base_url).rstrip("/")
        uri = request_uri(request)
        body = (await request.body()).decode()
        try:
            public, secret = authenticate(state, request, uri, body)
        except ApiError as error:
            state.counters["auth_refused"] += 1
            return error_response(error)
        segments = [s for s in request.path_params["rest"].strip("/").split("/") if s]
        try:
            hit = state.limits.check(public, rate_limit_resource(segments), request.method)
            if hit is not None:
                state.counters["rate_limited"] += 1
                code, limit = hit
                scope = "in each resource" if code == "429.10" else "in total"
                raise ApiError(
                    429,
                    code,
                    f"Each method {scope} has a limit of {limit} requests per "
                    f"{int(state.limits.window_seconds)} seconds. Try again later.",
                )
            status, payload = self._dispatch(request, segments, body)
        except ApiError as error:
            status, payload = error.status, error.body()
        text = "" if payload is None else dumps(payload)
        response = Response(text, status, media_type="application/json" if text else None)
        if state.config.sign_responses:
            date = format_date(state.clock())
            response.headers["x-date"] = date
            response.headers["x-hash"] = request_signature(
                secret, public, request.method, uri, text, date
            )
        return response

    # --- routing ------------------------------------------------------------

    def _dispatch(
        self, request: Request, segments: list[str], body: str
    ) -> tuple[int, dict[str, Any] | None]:
        method = request.method
        if not segments:
            return self._only(method, "GET", lambda: self._root())
        resource, rest = segments[0], segments[1:]
        if resource not in KNOWN_RESOURCES:
            raise ApiError(404, "404.20", f"Invalid resource name '{resource}'.")
        if (rate_limit_resource(segments), method) in UNIMPLEMENTED:
            raise ApiError(501, "501.10", f"Method {method} is not implemented.")
        match resource, rest:
            case "orders", []:
                return self._only(method, "GET", lambda: self._list_orders(request))
            case "orders", [order_id]:
                if method == "PATCH":
                    return self._patch_order(_id(order_id), body)
                return self._only(method, "GET", lambda: self._get_order(_id(order_id)))
            case "orders", [order_id, "orderrows"]:
                return self._only(method, "GET", lambda: self._list_rows(request, _id(order_id)))
            case "orderrows", [row_id]:
                return self._only(method, "GET", lambda: self._get_row(_id(row_id)))
            case "paymethods", []:
                return self._only(method, "GET", lambda: self._paymethods(request))
            case "webhooks", []:
                if method == "POST":
                    return self._create_webhook(body)
                return self._only(method, "GET", lambda: self._list_webhooks(request))
            case "webhooks", [webhook_id]:
                return self._webhook(method, _id(webhook_id), body)
        raise ApiError(501, "501.20", f"Resource '{'/'.join(segments)}' is not implemented.")

    @staticmethod
    def _only(
        method: str, allowed: str, handler: Callable[[], tuple[int, dict[str, Any] | None]]
    ) -> tuple[int, dict[str, Any] | None]:
        if method != allowed:
            raise ApiError(405, "405.10", f"Method {method} is not allowed on this resource.")
        return handler()

    def _page(self, request: Request, items: list[dict[str, Any]]) -> dict[str, Any]:
        config = self.state.config
        params = dict(request.query_params)
        start = max(0, _int(params.pop("start", None), 0))
        size = _int(params.pop("size", None), config.default_page_size)
        size = min(config.max_page_size, max(1, size))
        return render.collection(
            items[start : start + size],
            base=self.state.base_url,
            path=request.url.path,
            params=params,
            start=start,
            size=size,
            total=len(items),
        )

    # --- resources ----------------------------------------------------------

    def _root(self) -> tuple[int, dict[str, Any]]:
        base = self.state.base_url
        items = [{"href": f"{base}{PREFIX}/{name}/", "name": name} for name in KNOWN_RESOURCES]
        return 200, {"href": f"{base}{PREFIX}/", "items": sorted(items, key=lambda i: i["name"])}

    def _order(self, order_id: int) -> Order:
        try:
            return self.state.order(order_id)
        except NotFound as error:
            raise ApiError(404, "404.10", str(error)) from None

    def _get_order(self, order_id: int) -> tuple[int, dict[str, Any]]:
        return 200, render.order(self._order(order_id), self.state.base_url)

    def _list_orders(self, request: Request) -> tuple[int, dict[str, Any]]:
        orders = [o for o in self.state.visible_orders() if _matches(o, request.query_params)]
        orderby = request.query_params.get("orderby", "id")
        descending = orderby.endswith("_desc")
        field = orderby.removesuffix("_desc")
        if field not in ("id", "ordernumber", "create_date", "deliver_date"):
            raise ApiError(400, "400.10", f"Cannot order by '{orderby}'.")
        key_field = "id" if field == "deliver_date" else field
        orders.sort(key=lambda o: (getattr(o, key_field), o.id), reverse=descending)
        base = self.state.base_url
        return 200, self._page(request, [render.order(o, base) for o in orders])

    def _list_rows(self, request: Request, order_id: int) -> tuple[int, dict[str, Any]]:
        order = self._order(order_id)
        base = self.state.base_url
        return 200, self._page(request, [render.row(order, r, base) for r in order.rows])

    def _get_row(self, row_id: int) -> tuple[int, dict[str, Any]]:
        try:
            order, row = self.state.find_row(row_id)
        except NotFound as error:
            raise ApiError(404, "404.10", str(error)) from None
        return 200, render.row(order, row, self.state.base_url)

    def _patch_order(self, order_id: int, body: str) -> tuple[int, None]:
        self._order(order_id)
        data = _json_object(body)
        if "status" in data:
            try:
                self.state.set_status(order_id, int(data["status"]))
            except ValueError as error:
                raise ApiError(400, "400.10", str(error)) from None
        if "paid" in data:
            self.state.set_paid(order_id, bool(data["paid"]))
        # Success has no body (the App example expects 204 on PATCH).
        return 204, None

    def _paymethods(self, request: Request) -> tuple[int, dict[str, Any]]:
        base = self.state.base_url
        items = [
            {"href": f"{base}{PREFIX}/paymethods/{m['id']}/", **m, "is_active": True}
            for m in PAYMETHODS
        ]
        return 200, self._page(request, items)

    def _list_webhooks(self, request: Request) -> tuple[int, dict[str, Any]]:
        base = self.state.base_url
        hooks = [render.webhook(h, base) for h in self.state.webhooks.values()]
        return 200, self._page(request, hooks)

    def _create_webhook(self, body: str) -> tuple[int, dict[str, Any]]:
        data = _json_object(body)
        event, address = data.get("event"), data.get("address")
        if not isinstance(event, str) or not isinstance(address, str) or not address:
            raise ApiError(400, "400.10", "Both 'event' and 'address' are required.")
        try:
            hook = self.state.create_webhook(event, address, bool(data.get("is_active", True)))
        except ValueError as error:
            raise ApiError(400, "400.10", str(error)) from None
        return 201, render.webhook(hook, self.state.base_url)

    def _webhook(
        self, method: str, webhook_id: int, body: str
    ) -> tuple[int, dict[str, Any] | None]:
        try:
            hook = self.state.webhook(webhook_id)
        except NotFound as error:
            raise ApiError(404, "404.10", str(error)) from None
        if method == "GET":
            return 200, render.webhook(hook, self.state.base_url)
        if method == "DELETE":
            del self.state.webhooks[webhook_id]
            return 204, None
        if method == "PATCH":
            data = _json_object(body)
            if "event" in data and data["event"] != hook.event:
                raise ApiError(400, "400.10", "The event of a webhook cannot be changed.")
            hook.address = str(data.get("address", hook.address))
            hook.is_active = bool(data.get("is_active", hook.is_active))
            return 204, None
        raise ApiError(405, "405.10", f"Method {method} is not allowed on this resource.")


def _id(text: str) -> int:
    if not text.isdigit():
        raise ApiError(404, "404.10", f"'{text}' is not an id.")
    return int(text)


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _json_object(body: str) -> dict[str, Any]:
    try:
        data = loads(body) if body else {}
    except ValueError:
        raise ApiError(400, "400.10", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "400.10", "The request body must be a JSON object.")
    return data


def _flag(text: str) -> bool:
    return text.lower() in ("1", "true", "yes")


def _moment(text: str, end_of_day: bool) -> datetime:
    """A filter date: a plain date covers the whole day, a timestamp is exact."""
    moment = parse_date(text)
    if moment is not None:
        return moment
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise ApiError(400, "400.10", f"'{text}' is not a date.") from None
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start + timedelta(days=1, seconds=-1) if end_of_day else start


def _matches(order: Order, query: Any) -> bool:
    """The documented list filters (§7); `is_completed` defaults to true."""
    if order.is_completed != _flag(query.get("is_completed", "true")):
        return False
    checks: list[tuple[str, Callable[[str], bool]]] = [
        ("ordernumber", lambda v: order.is_completed and str(order.ordernumber) == v),
        ("status", lambda v: str(order.status) == v),
        ("is_paid", lambda v: order.paid == _flag(v)),
        ("min_create_date", lambda v: order.create_date >= _moment(v, end_of_day=False)),
        ("max_create_date", lambda v: order.create_date <= _moment(v, end_of_day=True)),
        ("paymethod_id", lambda v: str(order.paymethod["id"]) == v),
        ("transaction_id", lambda v: order.transaction_id == v),
    ]
    return all(check(query[name]) for name, check in checks if name in query)
