"""CCV Shop's HMAC-SHA512 signatures: requests, responses and webhook deliveries.

Requests and responses (documented, ccvshop.md §2): hex HMAC-SHA512 keyed with
the API secret over `<public>|<METHOD>|<URI with query>|<body>|<x-date>`.

Webhooks (undocumented, §8): each webhook has its own `key`. We accept an
`x-hash` that is hex HMAC-SHA512(key, raw body) — the best guess — or
HMAC-SHA512(key, `<address>|<raw body>`), the way CCV signs everything else
that has an address. Both need the key, so accepting either weakens nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime


def format_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def request_signature(secret: str, public: str, method: str, uri: str, body: str, date: str) -> str:
    message = f"{public}|{method.upper()}|{uri}|{body}|{date}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha512).hexdigest()


def _hmac(key: str, message: bytes) -> str:
    return hmac.new(key.encode(), message, hashlib.sha512).hexdigest()


def webhook_signature_valid(
    keys: Iterable[str], body: bytes, address: str, given: str | None
) -> bool:
    """True when `given` is a signature of `body` by one of our webhook keys."""
    if not given:
        return False
    candidate = given.strip().lower().encode()
    valid = False
    for key in keys:
        for message in (body, address.encode() + b"|" + body):
            # No early exit: every comparison runs, whichever key matched.
            valid |= hmac.compare_digest(_hmac(key, message).encode(), candidate)
    return valid
