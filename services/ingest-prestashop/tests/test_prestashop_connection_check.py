"""The PrestaShop connection test against the sandbox: each thing a merchant gets wrong
when connecting a shop, named in their language, and the shop's own order states on
success. Real servers throughout: a TLS server with a self-signed certificate, a
redirecting server, a plain website, a web server that drops the Authorization header."""

from __future__ import annotations

from typing import Any

from koppel_chassis import SecretBox, generate_key
from koppel_contracts import ConnectionSettings, Language
from koppel_ingest import ConnectionCheck
from koppel_ingest.requests import order_states
from koppel_ingest_prestashop.check import NEEDED_RESOURCES
from koppel_sandbox_kit import free_port, html_page_app, redirect_app, serve, serve_tls
from koppel_sandbox_prestashop import PrestaShopState, create_app
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .prestashop_harness import KEY, PrestashopHarness


async def check(
    harness: PrestashopHarness, language: Language = Language.NL, **shop: Any
) -> ConnectionCheck:
    return await harness.adapter.check_connection(harness.settings(**shop), language)


def _with_credentials(settings: ConnectionSettings, credentials: dict[str, str]) -> Any:
    return settings.model_copy(
        update={"shop": settings.shop.model_copy(update={"credentials": credentials})}
    )


def _shop() -> ASGIApp:
    state = PrestaShopState(baseline=lambda s: s.create_key("read", key=KEY))
    return create_app(state)


def _dropping_authorization(app: ASGIApp) -> ASGIApp:
    """A web server in front of PHP that does not pass the Authorization header on."""

    async def stripped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"authorization"]
            scope = {**scope, "headers": headers}
        await app(scope, receive, send)

    return stripped


def _password_protected() -> ASGIApp:
    """A staging site behind the web server's own password."""

    async def refuse(_: Request) -> Response:
        headers = {"WWW-Authenticate": 'Basic realm="Staging"'}
        return HTMLResponse("<h1>401 Authorization Required</h1>", 401, headers)

    return Starlette(routes=[Route("/{rest:path}", refuse)])


async def test_a_working_key_lists_the_shops_order_states_with_their_flags(
    harness: PrestashopHarness,
) -> None:
    dutch = await check(harness)
    english = await check(harness, Language.EN)
    assert dutch.ok and "werkt" in dutch.message and "8.1.7" in dutch.message
    assert english.ok and "works" in english.message
    assert [s.code for s in dutch.states] == [str(n) for n in range(1, 14)]
    names = {s.code: (s.name, e.name) for s, e in zip(dutch.states, english.states, strict=True)}
    assert names["2"] == ("Betaling aanvaard", "Payment accepted")
    paid = [s.code for s in dutch.states if s.bookable_by_default]
    assert paid == ["2", "3", "4", "5", "9", "11"]
    by_code = {c.code: c for c in order_states(dutch)}
    assert by_code["4"].flags == ["paid", "shipped", "delivery"]
    assert by_code["6"].flags == ["cancelled"] and by_code["7"].flags == ["cancelled"]
    assert by_code["10"].flags == []


async def test_a_merchants_own_state_is_listed_by_its_name(harness: PrestashopHarness) -> None:
    await harness.control.add_order_state(id=14, name={"nl": "Betaald via Klarna"}, paid=True)
    result = await check(harness)
    assert ("14", "Betaald via Klarna", True) in [
        (s.code, s.name, s.bookable_by_default) for s in result.states
    ]


async def test_a_missing_or_malformed_key_is_named_before_calling_the_shop(
    harness: PrestashopHarness,
) -> None:
    before = (await harness.control.counters())["requests"]
    settings = harness.settings()
    foreign = SecretBox(generate_key()).encrypt(KEY)
    missing = await harness.adapter.check_connection(_with_credentials(settings, {}), Language.NL)
    unreadable = await harness.adapter.check_connection(
        _with_credentials(settings, {"webservice_key": foreign}), Language.NL
    )
    short = await check(harness, Language.EN, key=KEY[:31])
    assert {missing.problem, unreadable.problem, short.problem} == {"settings_incomplete"}
    assert "31 characters" in short.message and "32" in short.message
    assert (await harness.control.counters())["requests"] == before


async def test_an_unknown_key_is_refused(harness: PrestashopHarness) -> None:
    result = await check(harness, key="X" * 32)
    assert result.problem == "credentials_refused" and "weigert" in result.message


async def test_a_key_without_the_view_right_on_a_resource_names_that_resource(
    harness: PrestashopHarness,
) -> None:
    everything_but = {r: ["GET"] for r in NEEDED_RESOURCES if r != "order_slip"}
    everything_but["order_slip"] = ["HEAD"]
    key = await harness.control.create_key(everything_but)
    result = await check(harness, key=key)
    assert result.problem == "permission_missing"
    assert result.details["detail"] == "order_slip"
    assert "order_slip" in result.message and "Bekijken (GET)" in result.suggestion


async def test_a_switched_off_webservice_is_named(harness: PrestashopHarness) -> None:
    await harness.control.disable_webservice()
    result = await check(harness)
    assert result.problem == "webservice_disabled" and "staat uit" in result.message


async def test_a_typo_in_the_shops_name_is_named(harness: PrestashopHarness) -> None:
    result = await check(harness, base_url="https://www.koffiewinkel-typfout.invalid")
    assert result.problem == "unreachable" and "bestaat niet" in result.message


async def test_a_shop_that_does_not_answer_is_unreachable(harness: PrestashopHarness) -> None:
    result = await check(harness, base_url=f"http://127.0.0.1:{free_port()}")
    assert result.problem == "unreachable" and "niet bereiken" in result.message


async def test_a_self_signed_certificate_is_not_trusted(harness: PrestashopHarness) -> None:
    async with serve_tls(_shop()) as server:
        result = await check(harness, base_url=server.url)
    assert result.problem == "tls" and result.details["detail"]
    assert "zelfondertekend" in result.message and not result.states


async def test_a_redirect_to_a_404_page_says_where_it_lands(harness: PrestashopHarness) -> None:
    async with serve(redirect_app()) as url:
        result = await check(harness, base_url=f"{url}/winkel")
    assert result.problem == "redirected"
    assert "/pagina-niet-gevonden" in result.message and "HTTP 404" in result.message


async def test_a_website_that_is_no_prestashop_is_named(harness: PrestashopHarness) -> None:
    async with serve(html_page_app()) as url:
        result = await check(harness, base_url=url)
    assert result.problem == "not_the_shop_api" and "text/html" in result.message


async def test_a_server_that_drops_the_key_is_told_apart_from_a_wrong_key(
    harness: PrestashopHarness,
) -> None:
    async with serve(_dropping_authorization(_shop())) as url:
        result = await check(harness, base_url=url)
    assert result.problem == "credentials_refused"
    assert "Authorization" in result.message and "CGIPassAuth" in result.suggestion


async def test_a_password_protected_site_is_not_taken_for_a_refused_key(
    harness: PrestashopHarness,
) -> None:
    async with serve(_password_protected()) as url:
        result = await check(harness, base_url=url)
    assert result.problem == "not_the_shop_api" and "wachtwoord" in result.message


async def test_a_failing_shop_is_told_apart_from_a_wrong_key(harness: PrestashopHarness) -> None:
    await harness.control.inject_error(500, 3, "PHP Warning #2", path="^$")
    result = await check(harness)
    assert result.problem == "shop_error" and "code 3" in result.message


async def test_the_api_address_itself_works_too(harness: PrestashopHarness) -> None:
    assert (await check(harness, base_url=f"{harness.url}/api")).ok
