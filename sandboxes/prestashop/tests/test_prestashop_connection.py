"""Fixtures for a "test this connection" feature: the shop over HTTPS with a
self-signed certificate, a mistyped URL that redirects to an HTML 404, and a
website that is not a PrestaShop at all."""

from __future__ import annotations

import ssl

import httpx
import pytest
from koppel_sandbox_kit import NOT_FOUND_PATH, html_page_app, redirect_app, serve, serve_tls
from koppel_sandbox_prestashop import DEMO_KEY, PrestaShopControl, create_app, demo_shop


async def test_the_shop_over_https_is_refused_until_its_ca_is_trusted() -> None:
    async with serve_tls(create_app(demo_shop())) as server:
        assert server.url.startswith("https://")
        async with httpx.AsyncClient() as strict:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await strict.get(f"{server.url}/api/orders", auth=(DEMO_KEY, ""))
        async with httpx.AsyncClient(verify=server.certificate.client_context()) as trusting:
            response = await trusting.get(f"{server.url}/api/orders", auth=(DEMO_KEY, ""))
            assert response.status_code == 200 and response.headers["PSWS-Version"]
        async with PrestaShopControl(
            server.url, verify=server.certificate.client_context()
        ) as control:
            assert len(await control.order_states()) == 13


async def test_a_mistyped_shop_url_redirects_to_an_html_404() -> None:
    async with serve(redirect_app()) as url, httpx.AsyncClient() as http:
        first = await http.get(f"{url}/winkel/api/orders", auth=(DEMO_KEY, ""))
        assert first.status_code == 302 and first.headers["Location"] == f"{url}{NOT_FOUND_PATH}"
        followed = await http.get(f"{url}/winkel/api/orders", follow_redirects=True)
        assert followed.status_code == 404
        assert followed.headers["Content-Type"].startswith("text/html")
        assert "<h1>" in followed.text and "PSWS-Version" not in followed.headers


async def test_a_plain_website_answers_html_without_prestashop_headers() -> None:
    async with serve(html_page_app()) as url, httpx.AsyncClient() as http:
        response = await http.get(f"{url}/api/orders", auth=(DEMO_KEY, ""))
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/html")
        assert "PSWS-Version" not in response.headers and "X-Powered-By" not in response.headers


async def test_any_asgi_app_can_be_served_over_tls() -> None:
    async with serve_tls(html_page_app("<p>hallo</p>")) as server:
        trust = ssl.create_default_context(cafile=str(server.ca_path))
        async with httpx.AsyncClient(verify=trust) as http:
            assert (await http.get(server.url)).text == "<p>hallo</p>"
