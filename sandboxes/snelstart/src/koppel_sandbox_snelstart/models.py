"""SnelStart's v2 models as the sandbox binds and filters them: the enums (exactly the
OpenAPI file's; `tests/test_snelstart_spec.py` compares them), the request models for
model binding, and the property trees `$filter`/`$select` resolve names against."""

from __future__ import annotations

from .binding import BOOL, DATETIME, GUID, INT, MONEY, STR, Enum, ListOf, Model, ref
from .odata import SCALAR, ODataType

NS = "SnelStart.B2B.Api.V2.Models"

# ---------------------------------------------------------------------------- enums
LINE_BTW_SOORTEN = ("Geen", "Laag", "Hoog", "Overig")  # VerkoopBoekingRegelModel.btwSoort
BTW_REGEL_SOORTEN = (  # VerkoopBoekingBtwRegelModel.btwSoort — the other enum (notes §12)
    "Geen",
    "VerkopenLaag",
    "VerkopenHoog",
    "VerkopenOverig",
    "VerkopenVerlegd",
    "InkopenLaag",
    "InkopenHoog",
    "InkopenOverig",
)
RELATIESOORTEN = ("Klant", "Leverancier")  # "Toegestane waarden" in the spec's description
AANMANINGSOORTEN = ("Nee", "Onderneming", "Consument")
INCASSOSOORTEN = ("Geen", "Core", "B2B")
PROCES_STATUSSEN = (
    "Order",
    "Offerte",
    "Bevestiging",
    "Werkbon",
    "Pakbon",
    "Afhaalbon",
    "Contantbon",
    "Factuur",
)
BTW_INGAVE = ("Inclusief", "Exclusief")
VERKOOPORDER_STATUSSEN = ("InBehandeling", "Uitgevoerd", "Service")
REKENING_CODES = ("Balans", "WinstEnVerlies")

# ---------------------------------------------------------------------------- request models
ADRES = Model(
    f"{NS}.Relaties.AdresModel",
    {
        "contactpersoon": STR,
        "straat": STR,
        "postcode": STR,
        "plaats": STR,
        "land": ref(f"{NS}.Landen.LandIdentifierModel"),
    },
)
BOEKINGSREGEL = Model(
    f"{NS}.VerkoopBoekingen.VerkoopBoekingRegelModel",
    {
        "omschrijving": STR,
        "grootboek": ref(f"{NS}.Grootboeken.GrootboekIdentifierModel"),
        "kostenplaats": ref(f"{NS}.Kostenplaatsen.KostenplaatsIdentifierModel"),
        "bedrag": MONEY,
        "btwSoort": Enum(f"{NS}.Boekingen.BtwSoortModel", LINE_BTW_SOORTEN),
    },
)
BTW_REGEL = Model(
    f"{NS}.VerkoopBoekingen.VerkoopBoekingBtwRegelModel",
    {
        "btwSoort": Enum(f"{NS}.Boekingen.BtwSoortBoekingModel", BTW_REGEL_SOORTEN),
        "btwBedrag": MONEY,
    },
)
VERKOOPBOEKING = Model(
    f"{NS}.VerkoopBoekingen.VerkoopBoekingModel",
    {
        "id": GUID,
        "modifiedOn": DATETIME,
        "boekstuk": STR,
        "markering": BOOL,
        "factuurdatum": DATETIME,
        "factuurnummer": STR,
        "klant": ref(f"{NS}.Relaties.RelatieIdentifierModel"),
        "omschrijving": STR,
        "factuurbedrag": MONEY,
        "betalingstermijn": INT,
        "eenmaligeIncassoMachtiging": Model(
            f"{NS}.VerkoopBoekingen.VerkoopBoekingEenmaligeIncassoMachtigingModel",
            {"kenmerk": STR, "omschrijving": STR, "datum": DATETIME},
        ),
        "doorlopendeIncassoMachtiging": ref(
            f"{NS}.VerkoopBoekingen.IncassoMachtigingIdentifierModel"
        ),
        "boekingsregels": ListOf(BOEKINGSREGEL),
        "btw": ListOf(BTW_REGEL),
    },
)
EMAIL_VERSTUREN = Model(
    f"{NS}.Relaties.EmailVersturenModel", {"shouldSend": BOOL, "email": STR, "ccEmail": STR}
)
EMAIL_SETTINGS = (
    "offerteEmailVersturen",
    "bevestigingsEmailVersturen",
    "factuurEmailVersturen",
    "aanmaningEmailVersturen",
    "offerteAanvraagEmailVersturen",
    "bestellingEmailVersturen",
)
RELATIE_WRITE = Model(
    f"{NS}.Relaties.RelatieWriteModel",
    {
        "id": GUID,
        # strings first: "Geen"/"Eigen" get their own REL codes before the enum is applied
        "relatiesoort": ListOf(STR),
        "relatiecode": INT,
        "naam": STR,
        "vestigingsAdres": ADRES,
        "correspondentieAdres": ADRES,
        "telefoon": STR,
        "mobieleTelefoon": STR,
        "email": STR,
        "btwNummer": STR,
        "factuurkorting": MONEY,
        "krediettermijn": INT,
        "bankieren": BOOL,
        "nonactief": BOOL,
        "kredietLimiet": MONEY,
        "memo": STR,
        "kvkNummer": STR,
        "oin": STR,
        "websiteUrl": STR,
        "aanmaningsoort": Enum(f"{NS}.Relaties.AanmaningsoortModel", AANMANINGSOORTEN),
        **dict.fromkeys(EMAIL_SETTINGS, EMAIL_VERSTUREN),
        "ublBestandAlsBijlage": BOOL,
        "iban": STR,
        "bic": STR,
        "incassoSoort": Enum(f"{NS}.Relaties.IncassosoortModel", INCASSOSOORTEN),
        "factuurRelatie": ref(f"{NS}.Relaties.RelatieIdentifierModel"),
    },
)
# spec maxLength on RelatieWriteModel strings that have no REL code of their own
RELATIE_MAX_LENGTHS = {"naam": 50, "oin": 20, "websiteUrl": 100, "iban": 50, "bic": 15}

VERKOOPORDER_REGEL = Model(
    f"{NS}.Verkooporders.VerkooporderRegelModel",
    {
        "artikel": ref(f"{NS}.Artikelen.ArtikelIdentifierModel"),
        "omschrijving": STR,
        "stuksprijs": MONEY,
        "aantal": MONEY,
        "kortingsPercentage": MONEY,
        "totaal": MONEY,
    },
)
VERKOOPORDER = Model(
    f"{NS}.Verkooporders.VerkoopOrderModel",
    {
        "id": GUID,
        "relatie": ref(f"{NS}.Relaties.RelatieIdentifierModel"),
        "procesStatus": Enum(f"{NS}.Verkooporders.ProcesStatusModel", PROCES_STATUSSEN),
        "nummer": INT,
        "datum": DATETIME,
        "krediettermijn": INT,
        "geblokkeerd": BOOL,
        "omschrijving": STR,
        "betalingskenmerk": STR,
        "incassomachtiging": ref(f"{NS}.VerkoopBoekingen.IncassoMachtigingIdentifierModel"),
        "afleveradres": ADRES,
        "factuuradres": ADRES,
        "verkooporderBtwIngaveModel": Enum(f"{NS}.Verkooporders.BtwIngaveModel", BTW_INGAVE),
        "kostenplaats": ref(f"{NS}.Kostenplaatsen.KostenplaatsIdentifierModel"),
        "regels": ListOf(VERKOOPORDER_REGEL),
        "memo": STR,
        "orderreferentie": STR,
        "factuurkorting": MONEY,
        "verkoopordersjabloon": ref(
            f"{NS}.Verkoopordersjablonen.VerkoopordersjabloonIdentifierModel"
        ),
        "verkoopOrderStatus": Enum(
            f"{NS}.Verkooporders.VerkoopOrderStatusModel", VERKOOPORDER_STATUSSEN
        ),
    },
)

# ---------------------------------------------------------------------------- OData types
# `uri` is left out on purpose: "niet beschikbaar voor Uri velden" (portal /odata).
_S = SCALAR
_REF = {"id": _S}
_ADRES = {"contactpersoon": _S, "straat": _S, "postcode": _S, "plaats": _S, "land": _REF}
_EMAIL = {"shouldSend": _S, "email": _S, "ccEmail": _S}

RELATIE_TYPE = ODataType(
    f"{NS}.Relaties.RelatieModel",
    {
        "id": _S,
        "modifiedOn": _S,
        "relatiesoort": [_S],
        "relatiecode": _S,
        "naam": _S,
        "vestigingsAdres": _ADRES,
        "correspondentieAdres": _ADRES,
        "telefoon": _S,
        "mobieleTelefoon": _S,
        "fax": _S,
        "email": _S,
        "btwNummer": _S,
        "factuurkorting": _S,
        "krediettermijn": _S,
        "bankieren": _S,
        "nonactief": _S,
        "kredietLimiet": _S,
        "memo": _S,
        "kvkNummer": _S,
        "oin": _S,
        "websiteUrl": _S,
        "aanmaningsoort": _S,
        **dict.fromkeys(EMAIL_SETTINGS, _EMAIL),
        "ublBestandAlsBijlage": _S,
        "iban": _S,
        "bic": _S,
        "incassoSoort": _S,
        "factuurRelatie": _REF,
    },
)
GROOTBOEK_TYPE = ODataType(
    f"{NS}.Grootboeken.GrootboekModel",
    {
        "id": _S,
        "modifiedOn": _S,
        "omschrijving": _S,
        "kostenplaatsVerplicht": _S,
        "rekeningCode": _S,
        "nonactief": _S,
        "nummer": _S,
        "grootboekfunctie": _S,
        "grootboekRubriek": _S,
        "rgsCode": [{"versie": _S, "rgsCode": _S}],
        "btwSoort": [_S],
        "vatRateCode": _S,
    },
)
VERKOOPFACTUUR_TYPE = ODataType(
    f"{NS}.Verkoopfacturen.VerkoopfactuurModel",
    {
        "id": _S,
        "verkoopBoeking": _REF,
        "modifiedOn": _S,
        "openstaandSaldo": _S,
        "factuurnummer": _S,
        "vervalDatum": _S,
        "relatie": _REF,
        "factuurDatum": _S,
        "factuurBedrag": _S,
        "verkoopOrders": [_REF],
    },
)
VERKOOPORDER_TYPE = ODataType(
    f"{NS}.Verkooporders.VerkoopOrderModel",
    {
        "id": _S,
        "relatie": _REF,
        "procesStatus": _S,
        "nummer": _S,
        "modifiedOn": _S,
        "datum": _S,
        "krediettermijn": _S,
        "geblokkeerd": _S,
        "omschrijving": _S,
        "betalingskenmerk": _S,
        "afleveradres": _ADRES,
        "factuuradres": _ADRES,
        "verkooporderBtwIngaveModel": _S,
        "regels": [
            {
                "artikel": _REF,
                "omschrijving": _S,
                "stuksprijs": _S,
                "aantal": _S,
                "kortingsPercentage": _S,
                "totaal": _S,
            }
        ],
        "memo": _S,
        "orderreferentie": _S,
        "verkoopOrderStatus": _S,
        "totaalExclusiefBtw": _S,
        "totaalInclusiefBtw": _S,
        "verkoopfactuur": _REF,
    },
)
ARTIKEL_TYPE = ODataType(
    f"{NS}.Artikelen.ArtikelQueryModel",
    {
        "id": _S,
        "artikelcode": _S,
        "omschrijving": _S,
        "artikelOmzetgroep": _REF,
        "verkoopprijs": _S,
        "inkoopprijs": _S,
        "eenheid": _S,
        "modifiedOn": _S,
        "isNonActief": _S,
        "voorraadControle": _S,
        "technischeVoorraad": _S,
        "vrijeVoorraad": _S,
        "isHoofdartikel": _S,
    },
)
VATRATES_TYPE = ODataType(
    f"{NS}.VatRates.VatRatesModel",
    {"countryCode": _S, "vatRates": [{"rateCode": _S, "rate": _S, "validFrom": _S}]},
)
VATRATE_DEFINITION_TYPE = ODataType(
    f"{NS}.VatRates.VatRateDefinitionModel", {"rateCode": _S, "shortName": _S, "name": _S}
)
LAND_TYPE = ODataType(
    f"{NS}.Landen.LandModel", {"id": _S, "naam": _S, "landcode": _S, "landcodeISO": _S}
)
