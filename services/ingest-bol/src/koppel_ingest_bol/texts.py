"""The merchant's texts of ingest-bol's alerts (over the runtime's own), Dutch and English."""

from __future__ import annotations

from koppel_ingest import Texts

ORDER_UNREADABLE = "bol_order_unreadable"
SELLER_MISSING = "bol_invoice_seller_missing"

TEXTS: Texts = {
    "shop_credentials_refused": {
        "nl": (
            "bol.com weigert de API-gegevens van deze koppeling (client id en secret): ze zijn"
            " verwijderd of het secret klopt niet, of het verkopersaccount is niet actief."
            " Koppel haalt geen bestellingen meer op.",
            "Maak in het verkopersdashboard van bol.com (Instellingen > Diensten >"
            " API-instellingen) nieuwe API-gegevens aan en werk de koppeling bij met de client"
            " id en het secret. Bestellingen van intussen worden daarna alsnog opgehaald.",
        ),
        "en": (
            "bol.com refuses this connection's API credentials (client id and secret): they"
            " were deleted or the secret is wrong, or the seller account is not active."
            " Koppel no longer fetches orders.",
            "Create new API credentials in the bol.com seller dashboard (Settings > Services >"
            " API settings) and update the connection with the client id and secret. Orders"
            " of the meantime are fetched afterwards.",
        ),
    },
    "shop_credentials_missing": {
        "nl": (
            "De koppeling heeft geen volledige API-gegevens voor bol.com (client id en secret).",
            "Vul de client id en het secret van de bol.com Retailer API in bij de koppeling.",
        ),
        "en": (
            "The connection has no complete bol.com API credentials (client id and secret).",
            "Enter the client id and secret of the bol.com Retailer API in the connection.",
        ),
    },
    "shop_secret_unreadable": {
        "nl": (
            "Het opgeslagen secret van de bol.com-koppeling kan niet worden ontsleuteld.",
            "Voer het secret van de bol.com API-gegevens opnieuw in bij de koppeling. Blijft"
            " dit gebeuren, neem dan contact op met Koppel.",
        ),
        "en": (
            "The stored secret of the bol.com connection cannot be decrypted.",
            "Enter the secret of the bol.com API credentials in the connection again. If this"
            " keeps happening, contact Koppel.",
        ),
    },
    SELLER_MISSING: {
        "nl": (
            "Zakelijke klanten van bol.com vragen om een factuur, maar Koppel kan die niet"
            " maken: de bedrijfsgegevens van de verkoper (naam, adres, btw- en KvK-nummer)"
            " ontbreken in de koppeling.",
            "Vul de bedrijfsgegevens van uw onderneming in bij de koppeling; openstaande"
            " factuurverzoeken worden daarna beantwoord. Of zet het beantwoorden van"
            " factuurverzoeken uit.",
        ),
        "en": (
            "bol.com business buyers ask for an invoice, but Koppel cannot make one: the"
            " seller's company details (name, address, VAT and KvK number) are missing from"
            " the connection.",
            "Enter your company's details in the connection; open invoice requests are"
            " answered afterwards. Or switch answering invoice requests off.",
        ),
    },
}
