"""Configuratie and Migratie on the real broker: validation against what the ledger reports,
credentials encrypted at once, new settings versions, "Test verbinding" and imports answered
through Kafka, and when each service has taken a version."""

from __future__ import annotations

from datetime import UTC, date, datetime

from koppel_chassis import SecretBox
from koppel_contracts import (
    CONNECTIONS,
    OPS_ANSWERS,
    OPS_REQUESTS,
    SETTINGS_APPLIED,
    AnswerState,
    Choice,
    ConnectionAnswer,
    ConnectionRequest,
    ConnectionSettingsEvent,
    MigrationProgress,
    RateAmount,
    RequestKind,
    SettingsApplied,
    SourceSystem,
    make_event_id,
)
from koppel_testkit import eventually, read_events

from .dashboard_support import csrf_of, login, publish, settings_event

ACCOUNTS = [Choice(code="8000", name="Omzet hoog"), Choice(code="8001", name="Omzet laag")]
VAT_CODES = [
    Choice(code="V21", name="Btw hoog", percentage="21"),
    Choice(code="V9", name="Btw laag", percentage="9"),
]


def answer(request: ConnectionRequest, component: str, **fields: object) -> ConnectionAnswer:
    return ConnectionAnswer(
        event_id=make_event_id("answer", request.request_id, component, str(fields.get("state"))),
        occurred_at=datetime.now(UTC),
        connection_id=request.connection_id,
        source_system=SourceSystem.KOPPEL,
        request_id=request.request_id,
        kind=request.kind,
        component=component,
        **fields,  # type: ignore[arg-type]
    )


def settings_form(page: str, **changes: str) -> dict[str, object]:
    """The form as the browser would send it: every field of the page, then our changes."""
    import re

    data: dict[str, object] = {}
    for name, value in re.findall(r'<input(?=[^>]*name="([^"]+)")(?=[^>]*value="([^"]*)")', page):
        data[name] = value.replace("&#39;", "'").replace("&amp;", "&")
    for match in re.finditer(r'<input([^>]*)type="checkbox"([^>]*)>', page):
        attrs = match.group(1) + match.group(2)
        name = re.search(r'name="([^"]+)"', attrs)
        if name and "checked" not in attrs:
            data.pop(name.group(1), None)
        elif name:
            data[name.group(1)] = "on"
    for select in re.finditer(r'<select name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', select.group(2))
        data[select.group(1)] = chosen.group(1) if chosen else ""
    for name, text in re.findall(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        data[name] = text
    data.pop("vat-0-remove", None)
    data.update(changes)
    return data


async def _stored(dashboard, version: int) -> None:
    async def there() -> bool:
        doc = await dashboard.db["connections"].find_one({"_id": "deboon"})
        return doc is not None and doc["version"] >= version

    await eventually(there)


async def test_test_verbinding_asks_the_ledger_and_the_mapping_is_checked_against_its_answer(
    kafka_topics, kafka_bootstrap, secrets_key, dashboard, client
) -> None:
    await publish(
        kafka_bootstrap, (kafka_topics[CONNECTIONS.name], settings_event("deboon", secrets_key))
    )
    await _stored(dashboard, 1)
    browser = client()
    await login(browser, "a@deboon.nl")
    page = (await browser.get("/connections/deboon/settings")).text
    assert "Nog niet gecontroleerd tegen de boekhouding" in page

    # "Test verbinding boekhouding" with a password typed into the (unsaved) form.
    sent = await browser.post(
        "/connections/deboon/settings/test",
        data=settings_form(page, target="ledger", **{"ledger.credentials.password": "nieuw-1"}),
    )
    assert sent.status_code == 303, sent.text[sent.text.find('id="problems"') :][:1500]
    [request] = await read_events(
        kafka_bootstrap, kafka_topics[OPS_REQUESTS.name], ConnectionRequest
    )
    assert request.kind is RequestKind.TEST_LEDGER and request.requested_by == "a@deboon.nl"
    assert request.settings is not None
    typed = request.settings.ledger.credentials["password"]
    assert typed.startswith("enc:v1:")
    assert SecretBox(secrets_key).decrypt(typed).get_secret_value() == "nieuw-1"
    waiting = (await browser.get(sent.headers["location"])).text
    assert "Wacht op antwoord van ledger-octopus" in waiting
    assert 'hx-trigger="every 1s"' in waiting

    # The ledger service answers with its accounts and VAT codes.
    await publish(
        kafka_bootstrap,
        (
            kafka_topics[OPS_ANSWERS.name],
            answer(
                request,
                "ledger-octopus",
                state=AnswerState.OK,
                accounts=ACCOUNTS,
                vat_codes=VAT_CODES,
            ),
        ),
    )

    async def answered() -> str:
        text = (await browser.get(sent.headers["location"])).text
        return text if "Werkt" in text else ""

    shown = await eventually(answered)
    assert "Omzet laag" in shown and "V9" in shown
    assert 'hx-trigger="every 1s"' not in shown, "polling stops once everyone answered"

    # A 9 % row with the 21 % VAT code is refused, naming the mismatch.
    page = (await browser.get("/connections/deboon/settings")).text
    assert "Gecontroleerd tegen wat ledger-octopus meldde" in page
    wrong = await browser.post(
        "/connections/deboon/settings",
        data=settings_form(
            page, **{"vat-1-rate": "9", "vat-1-account": "8001", "vat-1-code": "V21"}
        ),
    )
    assert wrong.status_code == 422
    assert "Btw-code V21 is 21%, maar staat bij tarief 9%." in wrong.text
    unknown = await browser.post(
        "/connections/deboon/settings",
        data=settings_form(
            page, **{"vat-1-rate": "9", "vat-1-account": "9999", "vat-1-code": "V9"}
        ),
    )
    assert "Grootboekrekening 9999 (btw 9%) bestaat niet in de boekhouding." in unknown.text
    events = await read_events(
        kafka_bootstrap, kafka_topics[CONNECTIONS.name], ConnectionSettingsEvent, settle=1.0
    )
    assert len(events) == 1, "a refused form publishes nothing"


async def test_saving_publishes_a_new_version_with_new_credentials_encrypted_and_old_kept(
    kafka_topics, kafka_bootstrap, secrets_key, dashboard, client
) -> None:
    first = settings_event("deboon", secrets_key)
    await publish(kafka_bootstrap, (kafka_topics[CONNECTIONS.name], first))
    await _stored(dashboard, 1)
    browser = client()
    await login(browser, "a@deboon.nl")
    page = (await browser.get("/connections/deboon/settings")).text
    saved = await browser.post(
        "/connections/deboon/settings",
        data=settings_form(
            page,
            **{
                "vat-1-rate": "9",
                "vat-1-account": "8001",
                "vat-1-code": "V9",
                "debtor-0-method": "bol",
                "debtor-0-debtor": "D-BOL",
                "ledger.credentials.password": "nieuw-wachtwoord",
                "booking.tolerance": "0.10",
            },
        ),
    )
    assert saved.status_code == 303, saved.text
    events = await read_events(
        kafka_bootstrap, kafka_topics[CONNECTIONS.name], ConnectionSettingsEvent, at_least=2
    )
    new = events[-1]
    assert new.version > first.version
    booking = new.settings.ledger.booking
    assert [(str(m.vat_rate), m.ledger_account, m.vat_code) for m in booking.vat_accounts] == [
        ("21", "8000", "V21"),
        ("9", "8001", "V9"),
    ]
    assert booking.payment_method_debtors == {"bol": "D-BOL"}
    assert str(booking.tolerance) == "0.10"
    box = SecretBox(secrets_key)
    password = new.settings.ledger.credentials["password"]
    assert box.decrypt(password).get_secret_value() == "nieuw-wachtwoord"
    # The shop secret nobody typed stays the same ciphertext.
    assert new.settings.shop.credentials == first.settings.shop.credentials

    shown = (await browser.get("/connections/deboon/settings")).text
    assert f"Opgeslagen als versie {new.version}" in shown
    assert "nieuw-wachtwoord" not in shown and password not in shown

    # Services report when they have taken it.
    applied = [
        SettingsApplied(
            event_id=make_event_id("applied", component, str(version)),
            occurred_at=datetime.now(UTC),
            connection_id="deboon",
            source_system=SourceSystem.KOPPEL,
            component=component,
            version=version,
        )
        for component, version in (("ledger-octopus", new.version), ("ingest-ccv", first.version))
    ]
    await publish(kafka_bootstrap, *[(kafka_topics[SETTINGS_APPLIED.name], a) for a in applied])

    async def listed() -> str:
        text = (await browser.get("/connections/deboon/settings")).text
        return text if 'data-component="ingest-ccv"' in text else ""

    text = await eventually(listed)
    octopus_row = text[text.index('data-component="ledger-octopus"') :]
    assert "heeft de huidige versie" in octopus_row.split("</tr>")[0]
    ingest_row = text[text.index('data-component="ingest-ccv"') :]
    assert "nog een oudere versie" in ingest_row.split("</tr>")[0]

    # A form made before someone else's save is refused, not merged.
    stale = await browser.post(
        "/connections/deboon/settings", data=settings_form(page, **{"booking.tolerance": "1"})
    )
    assert stale.status_code == 409


async def test_an_invalid_form_names_the_field_and_publishes_nothing(
    kafka_topics, kafka_bootstrap, secrets_key, dashboard, client
) -> None:
    await publish(
        kafka_bootstrap, (kafka_topics[CONNECTIONS.name], settings_event("deboon", secrets_key))
    )
    await _stored(dashboard, 1)
    browser = client()
    await login(browser, "a@deboon.nl")
    page = (await browser.get("/connections/deboon/settings")).text
    refused = await browser.post(
        "/connections/deboon/settings",
        data=settings_form(
            page, **{"vat-1-rate": "negen", "vat-1-account": "8001", "vat-1-code": "V9"}
        ),
    )
    assert refused.status_code == 422
    assert "ledger.booking.vat_accounts.1.vat_rate" in refused.text
    assert 'value="negen"' in refused.text, "what was typed stays in the form"
    events = await read_events(
        kafka_bootstrap, kafka_topics[CONNECTIONS.name], ConnectionSettingsEvent, settle=1.0
    )
    assert len(events) == 1


async def test_a_migration_dry_run_is_requested_and_its_progress_shown(
    kafka_topics, kafka_bootstrap, secrets_key, dashboard, client
) -> None:
    await publish(
        kafka_bootstrap, (kafka_topics[CONNECTIONS.name], settings_event("deboon", secrets_key))
    )
    await _stored(dashboard, 1)
    browser = client()
    await login(browser, "a@deboon.nl")
    page = (await browser.get("/connections/deboon/migration")).text
    started = await browser.post(
        "/connections/deboon/migration",
        data={
            "csrf_token": csrf_of(page),
            "since": "2026-01-01",
            "until": "2026-06-30",
            "dry_run": "on",
        },
    )
    assert started.status_code == 303
    [request] = await read_events(
        kafka_bootstrap, kafka_topics[OPS_REQUESTS.name], ConnectionRequest
    )
    assert request.kind is RequestKind.MIGRATE and request.dry_run is True
    assert (request.since, request.until) == (date(2026, 1, 1), date(2026, 6, 30))
    assert request.settings is None, "an import uses the connection's saved settings"
    progress = MigrationProgress(
        orders=412,
        published=0,
        total_incl_vat="52340.10",
        vat=[
            RateAmount(vat_rate="21", amount="5012.33"),
            RateAmount(vat_rate="9", amount="1870.02"),
        ],
        skipped=3,
    )
    await publish(
        kafka_bootstrap,
        (
            kafka_topics[OPS_ANSWERS.name],
            answer(request, "ingest-ccv", state=AnswerState.RUNNING, migration=progress),
        ),
        (
            kafka_topics[OPS_ANSWERS.name],
            answer(request, "ingest-ccv", state=AnswerState.DONE, migration=progress),
        ),
    )

    async def done() -> str:
        text = (await browser.get(started.headers["location"])).text
        return text if "Klaar" in text else ""

    text = await eventually(done)
    assert "412" in text and "€ 52.340,10" in text and "€ 1.870,02" in text
    history = (await browser.get("/connections/deboon/migration")).text
    assert "proefrun" in history and "ingest-ccv: Klaar" in history
