from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from koppel_sandbox_ccvshop import ApiKey, CcvShopControl, CcvShopState, create_app, signed_headers
from koppel_sandbox_kit import ServedSandbox, served_sandbox


class Sandbox(ServedSandbox[CcvShopState, CcvShopControl]):
    key: ApiKey  # set by the fixture: a fresh API key

    async def call(
        self,
        method: str,
        uri: str,
        body: Any = None,
        *,
        key: ApiKey | None = None,
        date: str | None = None,
    ) -> httpx.Response:
        """A correctly signed API call (uri = path + query, as sent)."""
        key = key or self.key
        text = "" if body is None else json.dumps(body)
        headers = signed_headers(key.public, key.secret, method, uri, text, date)
        return await self.http.request(method, uri, content=text.encode(), headers=headers)


def decoded(response: httpx.Response) -> Any:
    return json.loads(response.text, parse_float=Decimal)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with served_sandbox(CcvShopState(), create_app, CcvShopControl, kind=Sandbox) as served:
        served.key = await served.control.create_api_key()
        yield served
