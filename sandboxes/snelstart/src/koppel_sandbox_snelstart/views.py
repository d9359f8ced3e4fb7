"""JSON views of the reference resources: grootboeken, companyInfo, landen, btwtarieven,
vatrates, artikelen and artikelomzetgroepen (notes §4, §8)."""

from __future__ import annotations

from typing import Any

from .refdata import (
    BTW_TARIEVEN,
    LANDEN,
    VAT_RATE_DEFINITIONS,
    VAT_RATES,
    Land,
    as_snelstart_datetime,
)
from .relaties import ref
from .state import Administration, Grootboek


def render_grootboek(account: Grootboek) -> dict[str, Any]:
    return {
        "modifiedOn": account.modified.isoformat(timespec="milliseconds"),
        "omschrijving": account.omschrijving,
        "kostenplaatsVerplicht": False,
        "rekeningCode": account.rekening_code,
        "nonactief": account.nonactief,
        "nummer": account.nummer,
        "grootboekfunctie": account.grootboekfunctie,
        "grootboekRubriek": account.rubriek,
        "rgsCode": [],
        "btwSoort": list(account.btw_soorten),
        "vatRateCode": account.vat_rate_code,
        "id": account.id,
        "uri": f"/grootboeken/{account.id}",
    }


def render_company(admin: Administration) -> dict[str, Any]:
    return {
        "administratieIdentifier": admin.id,
        **admin.company,
        "volgendFactuurnummer": admin.next_factuurnummer,
        "volgendVerkoopordernummer": admin.next_order_nummer,
        "buitenlandseBtwGrootboek": ref("grootboeken", admin.buitenlandse_btw_grootboek),
        "factureerBuitenlandsBtw": admin.factureer_buitenlands_btw,
        # the int64 `from`/`to` encoding of these ranges is unknown: left empty
        "factureerBuitenlandsBtwRanges": [],
    }


def render_land(land: Land) -> dict[str, Any]:
    return {
        "naam": land.naam,
        "landcodeISO": land.landcode_iso,
        "landcode": land.landcode,
        "id": land.id,
        "uri": f"/landen/{land.id}",
    }


def landen() -> list[dict[str, Any]]:
    return [render_land(land) for land in LANDEN]


def btwtarieven() -> list[dict[str, Any]]:
    return [
        {
            "btwSoort": t.btw_soort,
            "btwPercentage": t.percentage,
            "datumVanaf": as_snelstart_datetime(t.vanaf),
            "datumTotEnMet": as_snelstart_datetime(t.tot_en_met),
        }
        for t in BTW_TARIEVEN
    ]


def vatrates() -> list[dict[str, Any]]:
    return [
        {
            "countryCode": country,
            "vatRates": [
                {
                    "rateCode": r.rate_code,
                    "rate": r.rate,
                    "validFrom": as_snelstart_datetime(r.valid_from),
                }
                for r in rows
            ],
        }
        for country, rows in VAT_RATES.items()
    ]


def vat_rate_definitions() -> list[dict[str, Any]]:
    return [
        {"rateCode": code, "shortName": short, "name": name}
        for code, short, name in VAT_RATE_DEFINITIONS
    ]


def render_artikel(artikel: dict[str, Any]) -> dict[str, Any]:
    aid = artikel["id"]
    return {
        "isHoofdartikel": False,
        "subartikelen": [],
        "artikelcode": artikel["artikelcode"],
        "omschrijving": artikel["omschrijving"],
        "artikelOmzetgroep": ref("artikelomzetgroepen", artikel["omzetgroep"]),
        "verkoopprijs": artikel["verkoopprijs"],
        "inkoopprijs": 0,
        "eenheid": "stuk",
        "modifiedOn": artikel["modified"].isoformat(timespec="milliseconds"),
        "relatie": None,
        "isNonActief": False,
        "voorraadControle": False,
        "technischeVoorraad": 0,
        "vrijeVoorraad": 0,
        "extraVelden": [],
        "id": aid,
        "uri": f"/artikelen/{aid}",
    }


def render_omzetgroep(group: dict[str, Any]) -> dict[str, Any]:
    gid = group["id"]
    return {
        "nummer": group["nummer"],
        "omschrijving": group["omschrijving"],
        "verkoopGrootboekNederlandIdentifier": ref("grootboeken", group["grootboek"]),
        "verkoopNederlandBtwSoort": group["verkoopNederlandBtwSoort"],
        "id": gid,
        "uri": f"/artikelomzetgroepen/{gid}",
    }
