"""The HTTP policy every external-API client shares: classify, retry, rate-limit.

Every failure is one of three kinds (the contracts' FailureKind):
- transient: timeouts, connection errors, 5xx, 408, 429 (with Retry-After) —
  retried here with exponential backoff and jitter, then handed to the caller,
  whose scheduler retries later without blocking the partition;
- credentials: 401/403 — never retried; the connection is held until new settings;
- permanent: any other 4xx — the external system refuses; a person must act.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from aiolimiter import AsyncLimiter
from koppel_contracts import FailureKind
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

log = logging.getLogger(__name__)


class ExternalError(Exception):
    kind: FailureKind = FailureKind.PERMANENT

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.body = body


class TransientError(ExternalError):
    kind = FailureKind.TRANSIENT


class PermanentError(ExternalError):
    kind = FailureKind.PERMANENT


class CredentialsError(ExternalError):
    kind = FailureKind.CREDENTIALS


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def classify_response(response: httpx.Response, what: str = "request") -> None:
    """Raise the right ExternalError for a non-2xx response; return for success."""
    status = response.status_code
    if status < 400:
        return
    body: Any
    try:
        body = response.json()
    except ValueError:
        body = response.text[:500]
    message = f"{what} failed: HTTP {status}"
    if status in (401, 403):
        raise CredentialsError(message, status=status, body=body)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise TransientError(message, status=status, retry_after=retry_after, body=body)
    if status >= 500 or status == 408:
        raise TransientError(message, status=status, body=body)
    raise PermanentError(message, status=status, body=body)


def classify_exception(error: Exception, what: str = "request") -> ExternalError:
    if isinstance(error, ExternalError):
        return error
    if isinstance(error, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError):
        return TransientError(f"{what} failed: {type(error).__name__}")
    return PermanentError(f"{what} failed: {error}")


def _is_transient(error: BaseException) -> bool:
    return isinstance(error, TransientError)


def _wait(base: Callable[[RetryCallState], float], cap: float) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, ExternalError) and error.retry_after is not None:
            return min(error.retry_after, cap)
        return base(state)

    return wait


class PolicyClient:
    """httpx.AsyncClient behind the shared policy. One per external account."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        name: str,
        max_attempts: int = 4,
        max_retry_seconds: float = 30.0,
        initial_backoff: float = 0.2,
        max_backoff: float = 5.0,
        requests_per_second: float | None = None,
    ) -> None:
        self.client = client
        self.name = name
        self.max_attempts = max_attempts
        self.max_retry_seconds = max_retry_seconds
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.limiter = (
            AsyncLimiter(max(1.0, requests_per_second), 1.0) if requests_per_second else None
        )
        self.calls = 0

    async def send_once(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One classified call, no retries."""
        if self.limiter is not None:
            await self.limiter.acquire()
        self.calls += 1
        try:
            response = await self.client.request(method, url, **kwargs)
        except httpx.HTTPError as error:
            raise classify_exception(error, f"{self.name} {method} {url}") from error
        classify_response(response, f"{self.name} {method} {url}")
        return response

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A call retried on transient failures; raises ExternalError when it gives up."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(_is_transient),
            stop=stop_after_attempt(self.max_attempts) | stop_after_delay(self.max_retry_seconds),
            wait=_wait(
                wait_exponential_jitter(multiplier=self.initial_backoff, max=self.max_backoff),
                self.max_backoff * 4,
            ),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self.send_once(method, url, **kwargs)
        raise AssertionError("unreachable")  # pragma: no cover

    async def aclose(self) -> None:
        await self.client.aclose()
