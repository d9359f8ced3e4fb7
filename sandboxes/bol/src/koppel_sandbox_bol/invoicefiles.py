"""What counts as an invoice file (UNCONFIRMED: bol's pages name no formats beyond
"the invoice file"; the sandbox takes the two an e-invoicing seller produces):
a PDF, or a UBL 2.1 Invoice / CreditNote in XML. Judged by content, not by the
part's declared content type."""

from __future__ import annotations

from typing import Literal
from xml.etree.ElementTree import ParseError, XMLPullParser

UBL_ROOTS = (
    "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice",
    "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote",
)


def sniff(data: bytes) -> Literal["pdf", "ubl"] | None:
    if data.startswith(b"%PDF-"):
        return "pdf"
    if b"<!DOCTYPE" in data[:4096].upper():
        return None  # no DTDs, no entity games
    parser = XMLPullParser(events=("start",))
    try:
        parser.feed(data)
        for _, element in parser.read_events():
            return "ubl" if element.tag in UBL_ROOTS else None
    except ParseError:
        return None
    return None
