"""SnelStart's error bodies (notes §2.2, §10) and the codes the sandbox raises.

Four shapes leave the sandbox:

1. business validation: HTTP 400 with a JSON **array** `[{errorCode, message, details}]`
   (several at once) — `ApiError.business(...)`;
2. model binding: HTTP 400 `{"message": "The request is invalid.", "modelState": {...}}`;
3. framework messages (bad OData, unknown ids): `{"Message": "..."}` (capital M);
4. the APIM gateway (subscription key, token, rate limit, unknown operation):
   `{"statusCode": N, "message": "..."}`.

Messages are SnelStart's own texts from the portal page `/foutcodes-v2`.
"""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, str] = {
    "ALG-0100": "Het ID dient leeg te zijn",
    "ALG-0101": "Het ID in het url en het ID van de data in het request komen niet overeen",
    "ALG-0104": "Ongeldig OData filter",
    "ALG-0106": "De data in het request is leeg",
    "ART-0001": "Artikel bestaat niet.",
    "BOE-0008": "De grootboekrekening is verwijderd en staat op nonactief in de administratie",
    "BOE-0021": "Het factuurnummer bestaat al",
    "BOE-0023": "Er zijn geen boekingsregels",
    "BOE-0028": "Een regelbedrag is nul",
    "BOE-0033": "De boekdatum mag niet meer dan 5 jaar voor het huidig boekjaar liggen",
    "BOE-0037": "Een grootboekrekening kon niet worden gevonden",
    "BOE-0039": "De boeking is niet in balans",
    "BOE-0042": "De boekdatum ligt in een geblokkeerde periode",
    "BOE-0046": "De boeking is gekoppeld aan een Btw aangifte",
    "BOE-0051": (
        "De boeking valt in een periode die door uw accountant is geblokkeerd voor controle "
        "of reeds door uw accountant is gecontroleerd"
    ),
    "BOE-0053": "Bij btwregel met te vorderen btw, is een inkoop boekingsregel verplicht",
    "BOE-0054": "De relatie is verwijderd en staat op nonactief",
    "BOE-0058": "Het factuurnummer is verplicht en mag maximaal 25 tekens bevatten.",
    "BOE-0060": "De opgegeven relatie is geen klant.",
    "BOE-0061": "Er is een niet toegestane grootboekrekening gebruikt.",
    "BOE-0062": "Btwverlegd mag niet worden gecombineerd met andere btwsoorten.",
    "BOE-0068": "Het boekstuk mag maximaal 25 tekens lang zijn.",
    "BOE-0069": "De opgegeven BTW is niet geldig",
    "BOE-0070": "De opgegeven boekdatum is niet geldig",
    "BOE-0071": "Een omschrijving mag maximaal 250 tekens lang zijn.",
    "BOE-0075": "In de boekingsregels mag niet worden geboekt op memoriaal of een balans dagboek",
    "BOE-0080": "Voor deze klant is boeken op een omzetrekening voor EU niet toegestaan.",
    "BOE-0082": (
        "Een btw-soort ontbreekt, of komt niet overeen met de btwsoort van de grootboekrekening."
    ),
    "BOE-0083": "De factuur kan niet worden verwijderd omdat er betalingen zijn.",
    "BOE-0089": "Het grootboek is niet gevonden",
    "REL-0001": "RelatieSoort mag niet 'geen' zijn",
    "REL-0003": "Krediettermijn mag niet kleiner dan -365 of groter dan 1000 zijn",
    "REL-0006": "KvkNummer is ongeldig",
    "REL-0007": "Naam moet gevuld zijn",
    "REL-0008": "Relatiecode reeds in gebruik",
    "REL-0012": "MobieleTelefoon mag maximaal 25 karakters bevatten",
    "REL-0013": "Telefoon mag maximaal 25 karakters bevatten",
    "REL-0020": "VestigingsAdres.Straat mag maximaal 50 karakters bevatten",
    "REL-0021": "VestigingsAdres.Postcode mag maximaal 25 karakters bevatten",
    "REL-0022": "VestigingsAdres.Plaats mag maximaal 50 karakters bevatten",
    "REL-0023": "VestigingsAdres.Contactpersoon mag maximaal 50 karakters bevatten",
    "REL-0025": "Correspondentie.Straat mag maximaal 50 karakters bevatten",
    "REL-0026": "Correspondentie.Postcode mag maximaal 25 karakters bevatten",
    "REL-0027": "Correspondentie.Plaats mag maximaal 50 karakters bevatten",
    "REL-0028": "Correspondentie.Contactpersoon mag maximaal 50 karakters bevatten",
    "REL-0032": (
        "FactuurEmailVersturen.Email dient gevuld te zijn indien "
        "FactuurEmailVersturen.ShouldSend aan staat"
    ),
    "REL-0033": "FactuurEmailVersturen.Email dient een geldig emailadres te zijn",
    "REL-0047": "Het ID in het url en het ID van de relatie in het request komen niet overeen",
    "REL-0048": "RelatieSoort mag niet 'eigen' bevatten",
    "REL-0055": "CorrespondentieAdres.LandId niet gevonden",
    "REL-0056": "VestigingsAdres.LandId niet gevonden",
    "REL-0057": "BtwNummer mag maximaal 50 karakters bevatten",
    "REL-0058": "BtwNummer moet minimaal 2 karakters bevatten",
    "REL-0059": "BtwNummer mag alleen cijfers en letters bevatten",
    "REL-0060": (
        "Indien een van de velden van VestigingsAdres gevuld is, meegegeven dienen alle velden "
        "gevuld zijn, uitgezonderd Contactpersoon"
    ),
    "REL-0061": "Email dient een geldig emailadres te zijn.",
    "REL-0063": "Het ID dient leeg te zijn.",
    "REL-0064": "RelatieSoort mag niet aangepast worden.",
    "REL-0065": "RelatieSoort kan niet zowel 'klant' als 'leverancier' zijn.",
    "REL-0084": (
        "Email bevat één of meerdere ongeldige emailadressen. U kunt meerdere emailadressen "
        "opgeven door ze te scheiden met een puntkomma(;)."
    ),
    "REL-0085": "Email mag maximaal 250 karakters bevatten",
    "REL-0087": "De Btw landcode komt niet overeen met de landcode van het vestigingsadres",
    "REL-0088": "Het opgegeven nummer is geen geldig btw-nummer",
    "VOR-0002": "De relatie is geen klant",
    "VOR-0005": "Bij een nieuwe verkooporder moet het veld ordernummer leeg zijn",
    "VOR-0006": "Straat mag maximaal 50 karakters bevatten",
    "VOR-0007": "Postcode mag maximaal 25 karakters bevatten",
    "VOR-0008": "Plaats mag maximaal 50 karakters bevatten",
    "VOR-0009": "Contactpersoon mag maximaal 50 karakters bevatten",
    "VOR-0010": "LandId niet gevonden",
    "VOR-0011": "Orderreferentie mag maximaal 50 karakters bevatten",
}

# APIM gateway texts (notes §2.2, §11; Azure API Management defaults)
MISSING_SUBSCRIPTION_KEY = (
    "Access denied due to missing subscription key. Make sure to include subscription key "
    "when making requests to an API."
)
INVALID_SUBSCRIPTION_KEY = (
    "Access denied due to invalid subscription key. Make sure to provide a valid key for an "
    "active subscription."
)
INVALID_TOKEN = "Unauthorized. Access token is missing or invalid."
RESOURCE_NOT_FOUND = "Resource not found"


class ApiError(Exception):
    """Any non-2xx answer: status, JSON body and extra headers."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {body!r}")
        self.status = status
        self.body = body
        self.headers = headers or {}

    @classmethod
    def business(cls, *errors: tuple[str, str | None]) -> ApiError:
        """HTTP 400 with the array of `{errorCode, message, details}`."""
        return cls(400, [error_item(code, details) for code, details in errors])

    @classmethod
    def gateway(cls, status: int, message: str, headers: dict[str, str] | None = None):
        return cls(status, {"statusCode": status, "message": message}, headers)

    @classmethod
    def framework(cls, status: int, message: str) -> ApiError:
        return cls(status, {"Message": message})

    @classmethod
    def model_state(cls, errors: dict[str, list[str]]) -> ApiError:
        return cls(400, {"message": "The request is invalid.", "modelState": errors})


def error_item(code: str, details: str | None = None) -> dict[str, Any]:
    return {"errorCode": code, "message": MESSAGES[code], "details": details}


class Problems:
    """Collects business errors so one request can answer several at once."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str | None]] = []

    def add(self, code: str, details: str | None = None) -> None:
        if code not in MESSAGES:
            raise KeyError(code)
        if (code, details) not in self.items:
            self.items.append((code, details))

    def codes(self) -> list[str]:
        return [code for code, _ in self.items]

    def raise_if_any(self) -> None:
        if self.items:
            raise ApiError.business(*self.items)


def not_found(type_name: str, ident: str) -> ApiError:
    """404 for an unknown id on `/{id}` operations (body shape UNCONFIRMED, notes §10)."""
    return ApiError.framework(404, f"Het item '{ident}' van het type {type_name} is niet gevonden.")
