"""Octopus error bodies: `{"errorCode", "errorMessage", "technicalInfo"}`.

The real `errorCode` values are UNCONFIRMED (no list is public); the numbers
below are the sandbox's own and only stable within the sandbox. Messages are
Dutch (like Octopus with `Accept-Language: nl`), `technicalInfo` is English.
"""

from __future__ import annotations

from typing import Any

# authentication / authorisation
AUTH_FAILED = 1001
TOKEN_INVALID = 1002
SOFTWARE_HOUSE_UNKNOWN = 1003
DOSSIER_FORBIDDEN = 1004
DOSSIER_TOKEN_MISMATCH = 1005
WEBSERVICE_MODULE_OFF = 1006
DOSSIER_UNKNOWN = 1007
# input
BAD_REQUEST = 2000
WRAPPER_MISSING = 2001
FIELD_MISSING = 2002
BOOKYEAR_UNKNOWN = 2003
PERIOD_CLOSED = 2004
JOURNAL_UNKNOWN = 2005
JOURNAL_CLOSED = 2006
DUPLICATE_DOCUMENT = 2007
RELATION_UNKNOWN = 2008
ACCOUNT_UNKNOWN = 2009
VAT_CODE_UNKNOWN = 2010
UNBALANCED = 2011
VAT_AMOUNT_WRONG = 2012
DOCUMENT_UNKNOWN = 2013
INVOICE_MODULE_OFF = 2014
ALREADY_BOOKED = 2015
EMPTY_FIELD = 2016
VAT_NUMBER_REQUIRED = 2017
RELATION_INVALID = 2018
MALFORMED = 5000
INTERNAL = 5001
NOT_FOUND = 4040
METHOD_NOT_ALLOWED = 4050
QUOTA_EXCEEDED = 4290
INJECTED = 9000


class OctopusError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        technical: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.technical = technical
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.technical)


def error_body(code: int, message: str, technical: str = "") -> dict[str, Any]:
    return {"errorCode": code, "errorMessage": message, "technicalInfo": technical}


def bad(code: int, message: str, technical: str = "") -> OctopusError:
    return OctopusError(400, code, message, technical)


def malformed(technical: str) -> OctopusError:
    """Octopus answers malformed dates/amounts/codes with a 500 (notes §6.3)."""
    return OctopusError(500, MALFORMED, "Er is een onverwachte fout opgetreden", technical)
