"""Classification and retry policy, on an in-process HTTP transport (no network involved)."""

import httpx
import pytest
from koppel_chassis import (
    CredentialsError,
    PermanentError,
    PolicyClient,
    TransientError,
    classify_response,
)
from koppel_chassis.httpclient import parse_retry_after
from koppel_contracts import FailureKind


def _response(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, json={"error": "x"})


@pytest.mark.parametrize(
    ("status", "error", "kind"),
    [
        (401, CredentialsError, FailureKind.CREDENTIALS),
        (403, CredentialsError, FailureKind.CREDENTIALS),
        (429, TransientError, FailureKind.TRANSIENT),
        (500, TransientError, FailureKind.TRANSIENT),
        (503, TransientError, FailureKind.TRANSIENT),
        (400, PermanentError, FailureKind.PERMANENT),
        (404, PermanentError, FailureKind.PERMANENT),
        (422, PermanentError, FailureKind.PERMANENT),
    ],
)
def test_status_codes_are_classified(status: int, error: type, kind: FailureKind) -> None:
    with pytest.raises(error) as raised:
        classify_response(_response(status))
    assert raised.value.kind is kind
    assert raised.value.status == status


def test_success_is_not_an_error() -> None:
    classify_response(_response(204))


def test_retry_after_seconds_and_dates() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None


async def test_transient_failures_are_retried_then_succeed() -> None:
    answers = iter([_response(503), _response(429, **{"Retry-After": "0"}), _response(200)])
    transport = httpx.MockTransport(lambda request: next(answers))
    client = PolicyClient(httpx.AsyncClient(transport=transport), name="shop", initial_backoff=0)
    response = await client.request("GET", "https://shop.test/orders")
    assert response.status_code == 200
    assert client.calls == 3


async def test_credentials_errors_are_not_retried() -> None:
    transport = httpx.MockTransport(lambda request: _response(401))
    client = PolicyClient(httpx.AsyncClient(transport=transport), name="shop", initial_backoff=0)
    with pytest.raises(CredentialsError):
        await client.request("GET", "https://shop.test/orders")
    assert client.calls == 1


async def test_gives_up_after_the_attempt_limit_with_a_transient_error() -> None:
    transport = httpx.MockTransport(lambda request: _response(500))
    client = PolicyClient(
        httpx.AsyncClient(transport=transport), name="shop", max_attempts=3, initial_backoff=0
    )
    with pytest.raises(TransientError):
        await client.request("GET", "https://shop.test/orders")
    assert client.calls == 3


async def test_timeouts_are_transient() -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client = PolicyClient(
        httpx.AsyncClient(transport=httpx.MockTransport(boom)),
        name="ledger",
        max_attempts=2,
        initial_backoff=0,
    )
    with pytest.raises(TransientError):
        await client.request("POST", "https://ledger.test/bookings")
    assert client.calls == 2
