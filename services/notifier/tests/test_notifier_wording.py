"""What the mails say (issue #15): debtors compared like with like, every line in the
mail's language with its amounts, the "works again" mail, links into the dashboard."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from koppel_contracts import AlertKind
from koppel_notifier.handlers import notification_for_alert, notification_for_check, schedule
from koppel_notifier.mailer import build_message
from koppel_notifier.render import RenderedMail, Renderer, format_rate
from koppel_notifier.settings import NotifierSettings
from koppel_notifier.state import Channel
from koppel_notifier.views import debtor_difference
from pydantic import ValidationError

from .support import alert_event, check_event, rates, settings_event

DASHBOARD = "https://mijn.koppel.test"
TODAY = date(2026, 11, 21)

# Words that give a line away as the other language (the merchant "Acme", order and
# document numbers, system names and links are the same in both).
ENGLISH = {"the", "differs", "differ", "tolerance", "relation", "booked", "order", "total", "by"}
DUTCH = {"de", "het", "een", "bestelling", "boeking", "relatie", "verschil", "geboekt", "marge"}


def _items(*events: Any, **extra: Any) -> list[dict[str, Any]]:
    out = []
    for event in events:
        note = (
            notification_for_check(event)
            if event.event_type == "check"
            else notification_for_alert(event)
        )
        assert note is not None
        out.append(note.item | {"kind": note.kind} | extra)
    return out


def _render(items: list[dict[str, Any]], language: str = "nl") -> RenderedMail:
    return Renderer(DASHBOARD).render(
        language=language,
        merchant_name="Acme",
        connection_id="c1",
        items=items,
        digest=False,
        today=TODAY,
    )


def _words_per_line(text: str) -> list[tuple[str, set[str]]]:
    lines = []
    for line in text.splitlines():
        without_markup = re.sub(r"<[^>]*>", " ", line)  # tags and their styles are no text
        without_links = re.sub(r"https?://\S+", "", without_markup)
        lines.append((line, {w.casefold() for w in re.findall(r"[A-Za-z]+", without_links)}))
    return lines


def _debtor_check(expected: str | None, booked: str | None, booked_total: str = "1234.56"):
    return check_event("c1", booked=booked_total, details=()).model_copy(
        update={"expected_customer": expected, "booked_customer": booked}
    )


# --- 1. a debtor difference: ids with ids, only when it is one, in Dutch -----------------


def test_the_same_relation_with_a_name_on_one_side_is_no_difference() -> None:
    # The demo's mail: "De boeking staat op relation 1004, de bestelling is van
    # Anna de Vries (relation 1004)".
    event = _debtor_check("Anna de Vries (relation 1004)", "relation 1004", "1235.56")
    body = _render(_items(event)).body
    assert "1004" not in body and "Anna de Vries" not in body
    assert "De boeking staat op" not in body
    assert "Het geboekte bedrag is € 1,00 hoger dan de bestelling" in body


def test_another_relation_is_named_by_its_id_in_natural_dutch() -> None:
    event = _debtor_check("relation 1004", "Anna de Vries (relation 1002)")
    body = _render(_items(event)).body
    assert "- De boeking staat op relatie 1002, maar de bestelling hoort bij relatie 1004." in body
    assert "relation" not in body and "Anna de Vries" not in body
    english = _render(_items(event), "en").body
    assert "- The booking is on debtor 1002, but the order belongs to debtor 1004." in english


@pytest.mark.parametrize(
    ("expected", "booked", "differs"),
    [
        ("relatie 1004", "relatie 1004", False),
        ("relatie 1004", "relation 1004", False),  # one ledger in English, one in Dutch
        ("Anna de Vries (relatie 1004)", "relatie 1004", False),
        ("relatie 1004", "relatie 1002", True),
        ("relatie ext. 55", "relatie 55", True),  # our external id is not the ledger's id
        ("relatie ext. 55", "relatie ext. 55", False),
        ("Jan Jansen", "Piet Pieters", True),  # names on both sides: names compared
        ("Jan Jansen", "jan  jansen", False),
        ("Jan Jansen", "relatie 1004", None),  # a name against an id: nothing to conclude
        (None, "relatie 1004", None),
    ],
)
def test_debtors_are_compared_like_with_like(
    expected: str | None, booked: str | None, differs: bool | None
) -> None:
    found = debtor_difference(expected, booked)
    assert (found is not None) == bool(differs)


def test_names_on_both_sides_that_differ_are_shown_as_they_are() -> None:
    body = _render(_items(_debtor_check("Jan Jansen", "Piet Pieters"))).body
    assert "De boeking staat op Piet Pieters, maar de bestelling hoort bij Jan Jansen." in body
    assert "hoger" not in body and "lager" not in body


# --- 2. every line in the mail's language, amounts formatted for it --------------------


def _the_demo_mismatch():
    """The demo's check: 1.00 over, VAT at 21% too, details in English from the ledger."""
    return check_event(
        "c1",
        expected="71.50",
        booked="72.50",
        details=("total differs by 1.00 (tolerance 0.05)", "VAT 21% differs by 1.00"),
    ).model_copy(
        update={
            "expected_vat": rates(r21="9.52", r9="1.37"),
            "booked_vat": rates(r21="10.52", r9="1.37"),
            "expected_customer": "relation 1004",
            "booked_customer": "relation 1004",
        }
    )


def test_a_dutch_mismatch_mail_has_no_english_line_and_dutch_amounts() -> None:
    mail = _render(_items(_the_demo_mismatch()))
    assert "total differs by" not in mail.body and "1.00" not in mail.body
    assert "- Het geboekte bedrag is € 1,00 hoger dan de bestelling" in mail.body
    assert "(toegestaan verschil: € 0,05)" in mail.body
    assert "- Btw 21%: geboekt € 10,52, volgens de bestelling € 9,52." in mail.body
    assert "Btw 9%" not in mail.body, "a rate that agrees is not a difference"
    for part in (mail.body, mail.html, mail.subject):
        for line, words in _words_per_line(part):
            assert not words & ENGLISH, line


def test_an_english_mismatch_mail_has_no_dutch_line_and_english_amounts() -> None:
    mail = _render(_items(_the_demo_mismatch()), "en")
    assert "- The booked amount is €1.00 higher than the order (allowed difference: €0.05)." in (
        mail.body
    )
    assert "- VAT at 21%: booked €10.52, the order has €9.52." in mail.body
    for part in (mail.body, mail.html, mail.subject):
        for line, words in _words_per_line(part):
            assert not words & DUTCH, line


def test_a_difference_the_numbers_do_not_show_is_told_without_the_ledgers_words() -> None:
    # Asperion's read-back writes "nummer/number …": not copied, pointed to instead.
    event = check_event("c1", booked="1234.56", details=("nummer/number 7 ≠ 8",))
    body = _render(_items(event)).body
    assert "nummer/number" not in body
    assert "Octopus heeft bij het teruglezen een ander verschil gemeld" in body


def test_a_document_missing_on_read_back_is_said_so_not_as_an_amount() -> None:
    event = check_event("c1", booked="0", details=("the document was not found",))
    body = _render(_items(event)).body
    assert "- Boeking V2026-1001 is niet gevonden in Octopus." in body
    assert "lager" not in body and "€ 0,00" not in body


@pytest.mark.parametrize(
    ("rate", "language", "expected"),
    [("21", "nl", "21%"), ("5.5", "nl", "5,5%"), ("5.50", "en", "5.5%"), ("0", "nl", "0%")],
)
def test_vat_rates_are_written_the_readers_way(rate: str, language: str, expected: str) -> None:
    assert format_rate(rate, language) == expected


# --- 3. the "works again" mail ------------------------------------------------------------


def _restored(**extra: Any) -> list[dict[str, Any]]:
    event = alert_event("c1", AlertKind.CONNECTION_RESTORED, cause_id="restored:c1:2")
    return _items(event, **extra)


@pytest.mark.parametrize(
    ("booked", "language", "sentence"),
    [
        (3, "nl", "Uw koppeling werkt weer, 3 bestellingen zijn alsnog geboekt."),
        (1, "nl", "Uw koppeling werkt weer, 1 bestelling is alsnog geboekt."),
        (0, "nl", "Uw koppeling werkt weer."),
        (3, "en", "Your connection works again, 3 orders have been booked after all."),
        (1, "en", "Your connection works again, 1 order has been booked after all."),
    ],
)
def test_the_restored_mail_is_one_short_sentence(booked: int, language: str, sentence: str):
    mail = _render(_restored(held_orders_booked=booked), language)
    paragraphs = mail.body.split("\n\n")
    assert paragraphs[1] == sentence
    assert sentence in mail.html
    assert len(mail.body.splitlines()) <= 12, "short: greeting, sentence, link, signature"
    expected_subject = {
        "nl": "Koppel: uw koppeling werkt weer (Acme)",
        "en": "Koppel: your connection works again (Acme)",
    }
    assert mail.subject == expected_subject[language]


def test_a_restore_goes_out_when_due_never_earlier_and_never_in_the_digest() -> None:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    digest = NotifierSettings(digest_enabled=True, grouping_window_seconds=60)
    assert schedule("connection_restored", now, digest) == (
        Channel.SETTLE,
        now + timedelta(seconds=60),
    )


def test_each_restore_is_its_own_cause_and_a_replay_is_the_same_one() -> None:
    first = alert_event("c1", AlertKind.CONNECTION_RESTORED, cause_id="restored:c1:2")
    replay = first.model_copy(update={"event_id": "another"})
    later = alert_event("c1", AlertKind.CONNECTION_RESTORED, cause_id="restored:c1:3")
    keys = [notification_for_alert(e).cause_key for e in (first, replay, later)]
    assert keys == [
        "connection_restored:restored:c1:2",
        "connection_restored:restored:c1:2",
        "connection_restored:restored:c1:3",
    ]


# --- 4. links into the dashboard --------------------------------------------------------------


def test_each_item_links_to_its_order_or_connection_in_both_parts() -> None:
    order = alert_event(
        "c1", AlertKind.PERSISTENT_FAILURE, cause_id="p", order_ref="A/1 b", order_number="W-1"
    )
    broken = alert_event("c1", AlertKind.CONNECTION_BROKEN, cause_id="b")
    mail = _render(_items(order, broken))
    order_url = f"{DASHBOARD}/connections/c1/orders/A%2F1%20b"
    connection_url = f"{DASHBOARD}/connections/c1"
    assert f"Bekijk de bestelling in het dashboard: {order_url}" in mail.body
    assert f"Bekijk de koppeling in het dashboard: {connection_url}\n" in mail.body
    assert f'<a href="{order_url}">Bekijk de bestelling in het dashboard</a>' in mail.html
    assert f'<a href="{connection_url}">Bekijk de koppeling in het dashboard</a>' in mail.html
    assert f"Uw koppeling in het dashboard: {connection_url}" in mail.body


def test_a_mismatch_links_to_its_order_and_the_restored_mail_to_the_connection() -> None:
    mismatch = _render(_items(check_event("c1")), "en")
    assert f"View the order in the dashboard: {DASHBOARD}/connections/c1/orders/1001" in (
        mismatch.body
    )
    restored = _render(_restored(held_orders_booked=2))
    assert f'<a href="{DASHBOARD}/connections/c1">' in restored.html
    assert f"{DASHBOARD}/connections/c1" in restored.body


def test_the_html_part_escapes_what_events_and_settings_contain() -> None:
    event = alert_event(
        "c1",
        AlertKind.PERSISTENT_FAILURE,
        cause_id="x",
        order_ref="9",
        order_number="<b>W-9</b>",
        reason="Prijs < 0 & meer",
    )
    html = (
        Renderer(DASHBOARD)
        .render(
            language="nl",
            merchant_name='Acme "<script>"',
            connection_id="c1",
            items=_items(event),
            digest=False,
            today=TODAY,
        )
        .html
    )
    assert "<script>" not in html and "<b>W-9</b>" not in html
    assert "&lt;b&gt;W-9&lt;/b&gt;" in html and "Prijs &lt; 0 &amp; meer" in html


def test_the_dashboard_address_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert NotifierSettings().dashboard_url == "http://127.0.0.1:8300"
    monkeypatch.setenv("KOPPEL_NOTIFIER_DASHBOARD_URL", "https://dashboard.koppel.nl/")
    assert NotifierSettings().dashboard_url == "https://dashboard.koppel.nl"
    with pytest.raises(ValidationError, match="http:// or https://"):
        NotifierSettings(dashboard_url="dashboard.koppel.nl")


def test_the_message_carries_the_links_in_its_text_and_html_parts(secrets_key: str) -> None:
    settings = NotifierSettings(dashboard_url=DASHBOARD)
    connection = settings_event("c1", secrets_key).settings
    message = build_message(
        settings=settings,
        connection_id="c1",
        connection=connection,
        rendered=_render(_items(check_event("c1"))),
        message_id="<m1@koppel.nl>",
        date=datetime(2026, 11, 21, 8, 0, tzinfo=UTC),
    )
    link = f"{DASHBOARD}/connections/c1/orders/1001"
    assert link in message.get_body(("plain",)).get_content()
    assert f'href="{link}"' in message.get_body(("html",)).get_content()
    assert message["Content-Language"] == "nl"
