"""CCV Shop's HMAC-SHA512 signatures (ccvshop.md §2 and §8).

Requests and responses: hex HMAC-SHA512, keyed with the API secret, over
`<public>|<METHOD>|<URI with query>|<body>|<x-date>`. Webhook deliveries: the
exact scheme is unconfirmed; the sandbox signs with the webhook's own `key`
over the raw body (or, configurably, over `<address>|<body>`, or base64 instead
of hex: a scheme clients do not expect, to test what a changed scheme does).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

# The three x-date styles seen in working clients (ccvshop.md §2).
_DATE_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%z")


def format_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date(value: str) -> datetime | None:
    """An x-date header in any of the accepted styles, or None when it is not one."""
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def request_signature(secret: str, public: str, method: str, uri: str, body: str, date: str) -> str:
    message = f"{public}|{method.upper()}|{uri}|{body}|{date}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha512).hexdigest()


def signed_headers(
    public: str, secret: str, method: str, uri: str, body: str = "", date: str | None = None
) -> dict[str, str]:
    """The three headers a client sends; `uri` is path plus query exactly as sent."""
    date = date or format_date(datetime.now(UTC))
    return {
        "x-public": public,
        "x-date": date,
        "x-hash": request_signature(secret, public, method, uri, body, date),
    }


def webhook_signature(
    key: str, body: bytes, address: str | None = None, *, base64_digest: bool = False
) -> str:
    """Hex (or base64) HMAC-SHA512 with the webhook key over the body (or `address|body`)."""
    message = body if address is None else address.encode() + b"|" + body
    digest = hmac.new(key.encode(), message, hashlib.sha512)
    return base64.b64encode(digest.digest()).decode() if base64_digest else digest.hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
