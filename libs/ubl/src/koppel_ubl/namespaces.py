"""UBL 2.1 namespaces and Clark-notation helpers shared by the writer and the reader."""

from __future__ import annotations

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

NSMAP = {"cac": CAC, "cbc": CBC}


def qname(prefixed: str) -> str:
    """'cbc:ID' -> '{urn:...CommonBasicComponents-2}ID'."""
    prefix, _, local = prefixed.partition(":")
    return f"{{{NSMAP[prefix]}}}{local}"


def path(prefixed_path: str) -> str:
    """'cac:TaxTotal/cbc:TaxAmount' in Clark notation, for ElementPath find()."""
    return "/".join(qname(step) for step in prefixed_path.split("/"))
