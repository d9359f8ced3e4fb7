"""The end of the run: no secret the run used may appear in clear in what it produced (issue
#17). The secrets: every credential in the connections the run published (decrypted from
`config.connections.v1`), the secrets key, the dashboard's cookie secret and password, the
operator token, the SnelStart subscription key. Where they are looked for: every log line
Koppel's processes wrote, every message (value, key and headers) on every topic of the run
(dead-letter topics included), the dashboard pages of each merchant (orders, an order,
settings, failures) and of support, and every mail in the run's mail folder.

A finding names the secret and where it was seen, never the secret itself (`mask`).
`SecretScanner` is the pure part (tests: test_fault_secrets.py); `scan_run` reads the run.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from aiokafka.admin import AIOKafkaAdminClient
from koppel_chassis import SecretBox
from koppel_chassis.topic_reader import read_to_end, read_topics_to_end
from koppel_contracts.topics import CONNECTIONS
from koppel_demo.system import SystemConfig

ENCRYPTED_PREFIX = "enc:v1:"
# Shorter values would be found in innocent text; none of the run's secrets is this short.
MIN_LENGTH = 8
# Credentials that name an account rather than prove it: they are stored encrypted, but a
# log line may name the account (as it names a shop's public key).
IDENTIFIERS = ("username", "user", "account_id", "public_key", "client_id")
# The vendors' stand-ins print their own demo credentials when they start (as a vendor's
# console shows a key): their logs are the vendor's side, not Koppel's.
VENDOR_LOGS = ("-sandbox", "mailcatcher")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Secret:
    name: str  # where it comes from: "demo-koffie-octopus ledger.credentials.password"
    value: str


@dataclass(frozen=True)
class Finding:
    secret: str  # its name
    masked: str
    where: str  # file:line, topic@partition:offset value|key|header, page, mail


@dataclass
class SecretScan:
    secrets: int = 0
    log_files: int = 0
    log_lines: int = 0
    topics: int = 0
    messages: int = 0
    pages: int = 0
    mails: int = 0
    findings: list[Finding] = field(default_factory=list)
    not_collected: list[str] = field(default_factory=list)
    not_scanned: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def line(self) -> str:
        clear = len({f.secret for f in self.findings})
        return (
            f"secrets in clear: {clear} of {self.secrets} secrets over {self.log_lines:,} log "
            f"lines, {self.messages:,} messages, {self.pages} pages, {self.mails} mails"
        )

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["ok"] = self.ok
        found["summary"] = self.line()
        found["findings"] = found["findings"][:50]
        found["findings_total"] = len(self.findings)
        return found


def mask(value: str) -> str:
    """What a report may show of a secret: its first two characters and its length."""
    return f"{value[:2]}… ({len(value)} chars)"


class SecretScanner:
    """Finds any of the secrets (or their URL-encoded form) in text, one pass per text."""

    def __init__(self, secrets: Iterable[Secret]) -> None:
        self.secrets: dict[str, Secret] = {}  # form looked for -> secret
        self.skipped: list[str] = []
        for secret in secrets:
            if len(secret.value) < MIN_LENGTH:
                self.skipped.append(f"{secret.name}: shorter than {MIN_LENGTH} characters")
                continue
            for form in {secret.value, quote(secret.value, safe="")}:
                self.secrets.setdefault(form, secret)
        forms = sorted(self.secrets, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(f) for f in forms)) if forms else None

    @property
    def count(self) -> int:
        return len({s.value for s in self.secrets.values()})

    def find(self, text: str) -> list[Secret]:
        if self._pattern is None or not text:
            return []
        found = {
            self.secrets[m.group(0)].value: self.secrets[m.group(0)]
            for m in self._pattern.finditer(text)
        }
        return list(found.values())

    def check(self, text: str, where: str, scan: SecretScan) -> None:
        for secret in self.find(text):
            scan.findings.append(Finding(secret.name, mask(secret.value), where))

    def scan_log(self, path: Path, scan: SecretScan) -> None:
        scan.log_files += 1
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                scan.log_lines += 1
                self.check(line, f"{path.name}:{number}", scan)

    def scan_message(self, topic: str, record: Any, scan: SecretScan) -> None:
        """A consumed record: its value, key and every header (name and value)."""
        scan.messages += 1
        where = f"{topic}@{record.partition}:{record.offset}"
        self.check(_text(record.value), f"{where} value", scan)
        self.check(_text(record.key), f"{where} key", scan)
        for name, value in record.headers or ():
            self.check(f"{name}={_text(value)}", f"{where} header {name}", scan)

    def scan_page(self, where: str, html: str, scan: SecretScan) -> None:
        scan.pages += 1
        self.check(html, f"page {where}", scan)

    def scan_mail(self, path: Path, scan: SecretScan) -> None:
        """Headers and every part decoded (a secret in a base64 or quoted-printable body is
        in clear for whoever reads the mail), and the raw file."""
        scan.mails += 1
        raw = path.read_bytes()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        texts = [raw.decode("utf-8", errors="replace")]
        texts += [f"{name}: {value}" for name, value in message.items()]
        for part in message.walk():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                texts.append(payload.decode("utf-8", errors="replace"))
        for secret in {s.value: s for text in texts for s in self.find(text)}.values():
            scan.findings.append(Finding(secret.name, mask(secret.value), f"mail {path.name}"))


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


# ==== the secrets =================================================================================


def connection_secrets(connections: Iterable[Any], box: SecretBox) -> Iterator[Secret]:
    """Every encrypted credential in the published connection settings, decrypted; account
    names (`IDENTIFIERS`) left out."""
    for record in connections:
        if not record.value:
            continue
        document = json.loads(_text(record.value))
        connection = str(document.get("connection_id") or _text(record.key))
        for path, value in _strings(document, ""):
            if not value.startswith(ENCRYPTED_PREFIX) or path.rsplit(".", 1)[-1] in IDENTIFIERS:
                continue
            yield Secret(f"{connection} {path}", box.decrypt(value).get_secret_value())


def _strings(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


def run_secrets(config: SystemConfig, extra: dict[str, str]) -> list[Secret]:
    """The secrets the run handed to the services itself (not through a connection)."""
    from koppel_demo.dashboard import DEMO_PASSWORD
    from koppel_sandbox_snelstart import DEMO as SNELSTART

    named = {
        "secrets key": config.secrets_key,
        "dashboard cookie secret": config.dashboard_cookie_secret,
        "dashboard password (every demo login)": DEMO_PASSWORD,
        "ledger-asperion operator token": config.asperion_operator_token,
        "SnelStart subscription key": SNELSTART.subscription_key,
        **extra,
    }
    return [Secret(name, value) for name, value in named.items() if value]


NOT_COLLECTED = [
    "access tokens the sandboxes issued (Octopus, SnelStart, Bol.com): their control APIs "
    "can expire tokens but do not list them",
    "SMTP password: the run's mail catcher takes mail without logging in, so there is none",
]


# ==== where they are looked for ===================================================================


async def _topics(config: SystemConfig) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=config.kafka_bootstrap)
    await admin.start()
    try:
        return sorted(t for t in await admin.list_topics() if t.startswith(config.isolation))
    finally:
        await admin.close()


async def _log_in(http: httpx.AsyncClient, login: str, password: str) -> bool:
    page = await http.get("/login")
    token = CSRF.search(page.text)
    if token is None:
        return False
    form = {"email": login, "password": password, "csrf_token": token.group(1), "next": "/"}
    answer = await http.post("/login", data=form)
    return answer.status_code == 200 and "/login" not in str(answer.url.path)


async def scan_dashboard(
    scanner: SecretScanner,
    config: SystemConfig,
    dashboard_url: str,
    orders: dict[str, list[str]],
    scan: SecretScan,
) -> None:
    """Logged in as each merchant whose connection ran (and as support): the orders list, an
    order page per given order, the settings and the failures page."""
    from koppel_demo.dashboard import DEMO_PASSWORD, MERCHANT_ACCOUNTS, create_demo_accounts

    await create_demo_accounts(config)
    logins = [(config.support_email, ["/connections", "/support/cases"])]
    for login, connection, _ in MERCHANT_ACCOUNTS:
        if connection not in orders:
            continue
        base = f"/connections/{connection}"
        pages = [base, f"{base}/settings", f"{base}/failures"]
        pages += [f"{base}/orders/{quote(ref, safe='')}" for ref in orders[connection]]
        logins.append((login, pages))
    for login, pages in logins:
        async with httpx.AsyncClient(
            base_url=dashboard_url, timeout=60, follow_redirects=True
        ) as http:
            if not await _log_in(http, login, DEMO_PASSWORD):
                scan.not_scanned.append(f"dashboard as {login}: logging in failed")
                continue
            for page in pages:
                answer = await http.get(page)
                if answer.status_code != 200:
                    scan.not_scanned.append(f"page {page} as {login}: {answer.status_code}")
                    continue
                scanner.scan_page(f"{page} ({login})", answer.text, scan)


async def scan_run(
    config: SystemConfig,
    dashboard_url: str | None,
    orders: dict[str, list[str]],
    extra_secrets: dict[str, str],
) -> SecretScan:
    """Collect the run's secrets, then look for them in its logs, topics, pages and mails.
    `orders`: connection id -> order numbers whose dashboard page is read."""
    scan = SecretScan(not_collected=list(NOT_COLLECTED))
    connections = await read_to_end(config.kafka_bootstrap, config.isolation + CONNECTIONS.name)
    secrets = [
        *connection_secrets(connections, SecretBox(config.secrets_key)),
        *run_secrets(config, extra_secrets),
    ]
    scanner = SecretScanner(secrets)
    scan.not_collected += scanner.skipped
    scan.secrets = scanner.count

    for path in sorted(config.log_dir.glob("*.log")):
        if any(path.stem.endswith(vendor) for vendor in VENDOR_LOGS):
            scan.not_scanned.append(f"{path.name}: the vendor's side (prints its own demo keys)")
            continue
        scanner.scan_log(path, scan)
    # One consumer over every topic of the run (a consumer per topic took minutes).
    for topic, records in (
        await read_topics_to_end(config.kafka_bootstrap, await _topics(config))
    ).items():
        scan.topics += 1
        for record in records:
            scanner.scan_message(topic, record, scan)
    if dashboard_url is None:
        scan.not_scanned.append("dashboard pages: no dashboard ran")
    else:
        await scan_dashboard(scanner, config, dashboard_url, orders, scan)
    for path in sorted(config.mail_dir.glob("*.eml")):
        scanner.scan_mail(path, scan)
    return scan
