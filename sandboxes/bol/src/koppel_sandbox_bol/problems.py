"""Errors the way bol answers them (bol.md §8): a problem object served with the
vendor media type. Three shapes occur in bol's recorded answers — the full one
(`type`, `title`, `status`, `detail`, `host`, `instance`, `violations`), the bare
one of `401 Expired JWT` and `429` (`title`, `status`, `detail`), and the `403`
one with `host` — and the sandbox reproduces each where bol uses it."""

from __future__ import annotations

from typing import Any, Literal

from starlette.responses import Response

from .jsonio import dumps

VENDOR_TYPE = "application/vnd.retailer.v10+json"
RESPONSE_TYPE = f"{VENDOR_TYPE};charset=UTF-8"
PROBLEM_TYPE = "https://api.bol.com/problems"
VALIDATION_TITLE = (
    "Error validating request. Consult the bol.com API documentation for more information."
)

Shape = Literal["full", "bare", "host"]


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        violations: list[dict[str, str]] | None = None,
        shape: Shape = "full",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.violations = violations or []
        self.shape: Shape = shape
        self.headers = headers or {}

    def body(self, *, host: str, instance: str, violations_always: bool) -> dict[str, Any]:
        if self.shape == "bare":
            return {"title": self.title, "status": self.status, "detail": self.detail}
        if self.shape == "host":
            return {"title": self.title, "status": self.status, "detail": self.detail, "host": host}
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "host": host,
            "instance": instance,
        }
        if self.violations or violations_always:
            body["violations"] = self.violations
        return body


def bad_request(violations: list[dict[str, str]]) -> ApiError:
    return ApiError(400, VALIDATION_TITLE, "Bad request", violations=violations)


def violation(name: str, reason: str) -> dict[str, str]:
    return {"name": name, "reason": reason}


def not_found(detail: str) -> ApiError:
    return ApiError(404, "Not Found", detail)


def vendor_response(
    status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None
) -> Response:
    text = "" if body is None else dumps(body)
    return Response(text, status, headers=headers, media_type=RESPONSE_TYPE)
