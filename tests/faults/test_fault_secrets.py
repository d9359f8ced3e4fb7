"""The fault run's secrets scan (fault_secrets.py), without processes: a secret planted in a
log line, a topic message's value or header, a dashboard page or a mail is found, said
where, and shown masked; text without secrets gives nothing."""

from __future__ import annotations

import json
import sys
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fault_secrets import Secret, SecretScan, SecretScanner, connection_secrets, mask
from koppel_chassis import SecretBox, generate_key

PASSWORD = "octopus-pa55word-xyz"
API_SECRET = "ccv-api-secret-0123456789"


def _scanner() -> SecretScanner:
    return SecretScanner(
        [Secret("octopus password", PASSWORD), Secret("ccv api secret", API_SECRET)]
    )


def _record(value: bytes | None, headers: list[tuple[str, bytes]], offset: int = 7) -> object:
    return SimpleNamespace(
        value=value, key=b"demo-koffie", headers=headers, partition=0, offset=offset
    )


def _report(scan: SecretScan) -> str:
    return json.dumps(scan.as_dict(), ensure_ascii=False) + scan.line()


def test_a_secret_in_a_log_line_is_found_with_file_and_line_and_shown_masked(
    tmp_path: Path,
) -> None:
    log = tmp_path / "ledger-octopus.log"
    log.write_text(
        '{"level": "INFO", "msg": "booked"}\n'
        f'{{"level": "ERROR", "msg": "login failed with {PASSWORD}"}}\n',
        encoding="utf-8",
    )
    scan = SecretScan(secrets=2)
    _scanner().scan_log(log, scan)

    assert [(f.secret, f.where) for f in scan.findings] == [
        ("octopus password", "ledger-octopus.log:2")
    ]
    assert scan.findings[0].masked == mask(PASSWORD)
    assert scan.log_lines == 2
    assert PASSWORD not in _report(scan)
    assert not scan.ok


def test_a_secret_in_a_message_value_and_in_a_header_is_found_in_each(tmp_path: Path) -> None:
    scan = SecretScan(secrets=2)
    scanner = _scanner()
    value = json.dumps({"order_ref": "1001", "note": f"key {API_SECRET}"}).encode()
    scanner.scan_message("faults1.shop.orders.v1", _record(value, []), scan)
    headers = [("x-koppel-error", f"401 for password {PASSWORD}".encode())]
    scanner.scan_message("faults1.shop.orders.v1.dlq", _record(b"{}", headers, 9), scan)
    scanner.scan_message("faults1.ledger.bookings.v1", _record(b'{"ok": true}', []), scan)

    assert [(f.secret, f.where) for f in scan.findings] == [
        ("ccv api secret", "faults1.shop.orders.v1@0:7 value"),
        ("octopus password", "faults1.shop.orders.v1.dlq@0:9 header x-koppel-error"),
    ]
    assert scan.messages == 3
    assert API_SECRET not in _report(scan) and PASSWORD not in _report(scan)


def test_a_secret_on_a_dashboard_page_is_found_also_url_encoded() -> None:
    slashed = "demo/Xq8+vK2=pL9sT4"  # a form field or link carries it as %2F, %2B, %3D
    scan = SecretScan(secrets=3)
    scanner = SecretScanner([*_scanner().secrets.values(), Secret("bol client secret", slashed)])
    scanner.scan_page("/connections/x/settings", "<p>Wachtwoord: ••••••</p>", scan)
    scanner.scan_page("/connections/x/orders/1", f'<a href="/x?s={API_SECRET}">', scan)
    scanner.scan_page("/connections/x/failures", f'<a href="/x?s={quote(slashed, safe="")}">', scan)

    assert [(f.secret, f.where) for f in scan.findings] == [
        ("ccv api secret", "page /connections/x/orders/1"),
        ("bol client secret", "page /connections/x/failures"),
    ]
    assert scan.pages == 3
    assert API_SECRET not in _report(scan) and slashed not in _report(scan)


def test_a_secret_in_a_base64_mail_body_is_found(tmp_path: Path) -> None:
    message = EmailMessage()
    message["Subject"] = "Boeking mislukt"
    message.set_content(f"Het wachtwoord {PASSWORD} werd geweigerd", cte="base64")
    (tmp_path / "1.eml").write_bytes(bytes(message))
    scan = SecretScan()
    _scanner().scan_mail(tmp_path / "1.eml", scan)

    assert [(f.secret, f.where) for f in scan.findings] == [("octopus password", "mail 1.eml")]


def test_text_without_a_secret_gives_no_finding_and_short_values_are_not_looked_for() -> None:
    scanner = SecretScanner([Secret("pin", "1234"), Secret("ccv api secret", API_SECRET)])
    scan = SecretScan()
    scanner.scan_page("/connections", "order 1234 booked: ccv-api-secret-01234 (not it)", scan)

    assert scan.findings == [] and scan.ok
    assert scanner.count == 1
    assert scanner.skipped == ["pin: shorter than 8 characters"]


def test_connection_credentials_are_decrypted_and_account_names_left_out() -> None:
    box = SecretBox(generate_key())
    settings = {
        "connection_id": "demo-koffie",
        "settings": {
            "shop": {"account_id": "pub", "credentials": {"api_secret": box.encrypt(API_SECRET)}},
            "ledger": {
                "credentials": {
                    "username": box.encrypt("koppel-demo"),
                    "password": box.encrypt(PASSWORD),
                }
            },
        },
    }
    records = [_record(json.dumps(settings).encode(), []), _record(None, [])]

    found = sorted((s.name, s.value) for s in connection_secrets(records, box))

    assert found == [
        ("demo-koffie settings.ledger.credentials.password", PASSWORD),
        ("demo-koffie settings.shop.credentials.api_secret", API_SECRET),
    ]
