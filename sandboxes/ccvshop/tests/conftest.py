from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from koppel_sandbox_ccvshop import ApiKey, CcvShopControl, CcvShopState, create_app, signed_headers
from koppel_sandbox_kit import serve


@dataclass
class Sandbox:
    url: str
    state: CcvShopState
    control: CcvShopControl
    key: ApiKey
    http: httpx.AsyncClient

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
    state = CcvShopState()
    async with (
        serve(create_app(state)) as url,
        CcvShopControl(url) as control,
        httpx.AsyncClient(base_url=url) as http,
    ):
        key = await control.create_api_key()
        yield Sandbox(url, state, control, key, http)
