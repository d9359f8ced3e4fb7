from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

import httpx
import pytest
from koppel_sandbox_kit import ServedSandbox
from koppel_sandbox_kit.fixtures import sandbox_fixtures
from koppel_sandbox_octopus import DEMO, OctopusControl, OctopusState, create_app
from koppel_sandbox_octopus.jsonio import dumps, loads

START = datetime(2026, 3, 15, 10, 0, tzinfo=UTC)
BOOKYEAR_2026 = 3  # 2024 -> 1 (closed), 2025 -> 2, 2026 -> 3, 2027 -> 4


class Api:
    """A bare-bones Octopus client for the tests: two-token login, Decimal JSON."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.token = ""
        self.dossier_token = ""
        self.dossier_id = DEMO.dossier_id

    async def login(self, dossier_id: int = DEMO.dossier_id, password: str = DEMO.password) -> None:
        auth = await self.http.post(
            "/authentication",
            headers={"softwareHouseUuid": DEMO.software_house_uuid},
            json={"user": DEMO.user, "password": password},
        )
        assert auth.status_code == 200, auth.text
        self.token = auth.json()["token"]
        connect = await self.http.post(
            "/dossiers",
            params={"dossierId": dossier_id, "localeId": 1},
            headers={"Token": self.token},
        )
        assert connect.status_code == 200, connect.text
        self.dossier_token = connect.json()["Dossiertoken"]
        self.dossier_id = dossier_id

    async def call(self, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        content = None
        headers = {"dossierToken": self.dossier_token}
        if body is not None:
            content = dumps(body)
            headers["Content-Type"] = "application/json; charset=utf-8"
        return await self.http.request(
            method,
            f"/dossiers/{self.dossier_id}{path}",
            params=params or None,
            content=content,
            headers=headers,
        )

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.call("GET", path, **params)
        assert response.status_code == 200, response.text
        return loads(response.content)

    @staticmethod
    def error(response: httpx.Response, status: int) -> dict[str, Any]:
        """Assert an Octopus error: the status and the JSON error body."""
        assert response.status_code == status, (response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        assert set(body) == {"errorCode", "errorMessage", "technicalInfo"}, body
        assert body["errorMessage"]
        return body


class Sandbox(ServedSandbox[OctopusState, OctopusControl]):
    @cached_property
    def api(self) -> Api:
        return Api(self.http)


clock, sandbox = sandbox_fixtures(OctopusState.demo, create_app, OctopusControl, START, Sandbox)


@pytest.fixture
async def api(sandbox: Sandbox) -> Api:
    await sandbox.api.login()
    return sandbox.api


def _sale(nr: int, **overrides: Any) -> dict[str, Any]:
    """A sales booking of 2 lines (21 % and 9 %) totalling 64.93."""
    data: dict[str, Any] = {
        "bookyearKey": {"id": BOOKYEAR_2026},
        "journalKey": DEMO.journal_sales,
        "documentSequenceNr": nr,
        "relationIdentificationServiceData": {
            "relationKey": {"id": DEMO.relations["webshop_customers"]}
        },
        "bookyearPeriodeNr": 202603,
        "documentDate": "2026-03-15",
        "expiryDate": "2026-03-29",
        "comment": "webshop order 1001",
        "orderReference": "",
        "reference": "ORD-1001",
        "amount": Decimal("64.93"),
        "currencyCode": "EUR",
        "exchangeRate": Decimal("1.0"),
        "paymentMethod": 0,
        "bookingLines": [
            {
                "accountKey": DEMO.accounts["revenue_21"],
                "baseAmount": Decimal("37.17"),
                "vatCodeKey": DEMO.vat_codes["21"],
                "vatAmount": Decimal("7.81"),
                "vatRecupPercentage": Decimal("100.0"),
                "comment": "2x opzetborstels",
            },
            {
                "accountKey": DEMO.accounts["revenue_9"],
                "baseAmount": Decimal("18.30"),
                "vatCodeKey": DEMO.vat_codes["9"],
                "vatAmount": Decimal("1.65"),
                "vatRecupPercentage": Decimal("100.0"),
                "comment": "1x kookboek",
            },
        ],
    }
    data.update(overrides)
    return data


def _invoice(
    nr: int, lines: list[dict[str, Any]] | None = None, **overrides: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "bookyearKey": {"id": BOOKYEAR_2026},
        "journalKey": DEMO.journal_sales,
        "documentSequenceNr": nr,
        "bookyearPeriodeNr": 202603,
        "documentDate": "2026-03-15",
        "expiryDate": "2026-03-29",
        "currencyCode": "EUR",
        "exchangeRate": Decimal("1.0"),
        "relationIdentificationServiceData": {
            "relationKey": {"id": DEMO.relations["webshop_customers"]}
        },
        "comment": "webshop order 2001",
        "reference": "ORD-2001",
        "orderReference": "",
        "invoiceLines": lines
        or [
            {
                "description": "opzetborstels",
                "count": 3,
                "unitPrice": Decimal("12.39"),
                "vatCodeKey": DEMO.vat_codes["21"],
                "bookingAccountNr": DEMO.accounts["revenue_21"],
            },
            {
                "description": "kookboek",
                "count": 1,
                "unitPrice": Decimal("18.31"),
                "vatCodeKey": DEMO.vat_codes["9"],
                "bookingAccountNr": DEMO.accounts["revenue_9"],
            },
        ],
    }
    data.update(overrides)
    return data


@pytest.fixture
def sale():
    """sale(nr, **overrides): a buy/sell booking body (unwrapped) totalling 64.93."""
    return _sale


@pytest.fixture
def invoice():
    """invoice(nr, lines=None, **overrides): a concept invoice body."""
    return _invoice
