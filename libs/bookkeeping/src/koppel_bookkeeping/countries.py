"""Where an address is for VAT: inside the EU VAT area or not, and which member state.

Country codes are ISO 3166-1 alpha-2, as in the canonical order. The EU VAT area
is not the same as the EU's map: some territories of member states are outside it
(Council Directive 2006/112/EC, art. 6), and goods sent there are exports.
"""

from __future__ import annotations

from koppel_contracts import Address

EU_MEMBER_STATES: frozenset[str] = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip

# Codes an address may carry that mean a member state for VAT purposes:
# "EL" is the EU's own code for Greece (shops copy it from VAT numbers), and
# Monaco is treated as France for VAT (art. 7 of the directive).
_VAT_COUNTRY_ALIASES: dict[str, str] = {"EL": "GR", "MC": "FR"}

# Territories of member states outside the EU VAT area, recognised by postal code
# prefix: Canary Islands (35, 38), Ceuta (51), Melilla (52); French overseas
# departments (97x); Åland (22xxx); Heligoland and Büsingen; Livigno and Campione
# d'Italia; Mount Athos. Orders shipped there are exports, not EU sales.
_OUTSIDE_VAT_AREA: dict[str, tuple[str, ...]] = {
    "ES": ("35", "38", "51", "52"),
    "FR": ("97",),
    "FI": ("22",),
    "DE": ("27498", "78266"),
    "IT": ("23041", "22061"),
    "GR": ("63086", "63087"),
}

# VAT identification numbers start with the member state's code, except Greece
# ("EL") and Northern Ireland for goods ("XI", Windsor Framework).
_VAT_NUMBER_PREFIXES: frozenset[str] = frozenset((EU_MEMBER_STATES - {"GR"}) | {"EL", "XI"})


def vat_country(country_code: str) -> str:
    """The member state an address code stands for in VAT matters (EL -> GR, MC -> FR)."""
    return _VAT_COUNTRY_ALIASES.get(country_code, country_code)


def in_eu_vat_area(address: Address) -> bool:
    """True when goods delivered to this address stay inside the EU VAT area."""
    country = vat_country(address.country_code)
    if country not in EU_MEMBER_STATES:
        return False
    prefixes = _OUTSIDE_VAT_AREA.get(country, ())
    # These countries' postal codes are numeric; people still write "E-35001" or
    # "AX-22100", so keep only the digits after any leading country letters.
    postal = "".join(ch for ch in (address.postal_code or "") if ch.isalnum()).upper()
    postal = postal.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return not (postal and any(postal.startswith(prefix) for prefix in prefixes))


def vat_number_prefix(vat_number: str) -> str:
    return vat_number[:2].upper()


def vat_number_member_state(vat_number: str) -> str | None:
    """The member state that issued a VAT number, or None if the prefix is not an EU one."""
    prefix = vat_number_prefix(vat_number)
    if prefix not in _VAT_NUMBER_PREFIXES or len(vat_number) <= 2:
        return None
    # "XI" stays "XI": Northern Ireland is its own party for goods, never the seller's.
    return {"EL": "GR"}.get(prefix, prefix)
