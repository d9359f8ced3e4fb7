"""Which records each resource serves, and PrestaShop's full resource list (for
the `/api/` root and the "did you mean" of error 27). Resources PrestaShop has
but the sandbox does not model answer with an empty list."""

from __future__ import annotations

from . import records
from .records import Record, RecordSource, whole
from .state import PrestaShopState

# PrestaShop's resource names and descriptions (WebserviceRequest::getResources).
PRESTASHOP_RESOURCES: dict[str, str] = {
    "addresses": "The Customer, Brand and Customer addresses",
    "attachments": "The product Attachments",
    "carriers": "The Carriers",
    "cart_rules": "Cart rules management",
    "carts": "Customer's carts",
    "categories": "The product categories",
    "combinations": "The product combinations",
    "configurations": "Shop configuration",
    "contacts": "Shop contacts",
    "content_management_system": "Content management system",
    "countries": "The countries",
    "currencies": "The currencies",
    "customer_messages": "Customer services messages",
    "customer_threads": "Customer services threads",
    "customers": "The e-shop's customers",
    "customizations": "Customization values",
    "deliveries": "Product delivery",
    "employees": "The Employees",
    "groups": "The customer's groups",
    "guests": "The guests",
    "image_types": "The image types",
    "images": "The images",
    "languages": "Shop languages",
    "manufacturers": "The product brands",
    "messages": "The Messages",
    "order_carriers": "The Order carriers",
    "order_cart_rules": "The Order cart rules",
    "order_details": "Details of an order",
    "order_histories": "The Order histories",
    "order_invoices": "The Order invoices",
    "order_payments": "The Order payments",
    "order_slip": "The Order slips",
    "order_states": "The Order statuses",
    "orders": "The Customers orders",
    "price_ranges": "Price ranges",
    "product_customization_fields": "Customization Field",
    "product_feature_values": "The product feature values",
    "product_features": "The product features",
    "product_option_values": "The product options value",
    "product_options": "The product options",
    "product_suppliers": "Product Suppliers",
    "products": "The products",
    "search": "Search",
    "shop_groups": "Shop groups from multi-shop feature",
    "shop_urls": "Shop URLs from multi-shop feature",
    "shops": "Shops from multi-shop feature",
    "specific_price_rules": "Specific price management",
    "specific_prices": "Specific price management",
    "states": "The available states of countries",
    "stock_availables": "Available quantities",
    "stock_movement_reasons": "Stock movement reason",
    "stock_movements": "Stock movements",
    "stocks": "Stocks",
    "stores": "The stores",
    "suppliers": "The product suppliers",
    "supply_order_details": "Supply Order Details",
    "supply_order_histories": "Supply Order Histories",
    "supply_order_receipt_histories": "Supply Order Receipt Histories",
    "supply_order_states": "Supply Order Statuses",
    "supply_orders": "Supply Orders",
    "tags": "The Products tags",
    "tax_rule_groups": "Tax rule groups",
    "tax_rules": "Tax rules entity",
    "taxes": "The tax rate",
    "translated_configurations": "Shop configuration",
    "warehouse_product_locations": "Location of products in warehouses",
    "warehouses": "Warehouses",
    "weight_ranges": "Weight ranges",
    "zones": "The Countries zones",
}


def order_states(state: PrestaShopState) -> list[Record]:
    return [
        {
            "id": s.id,
            "unremovable": s.unremovable,
            "delivery": s.delivery,
            "hidden": s.hidden,
            "send_email": s.send_email,
            "module_name": s.module_name,
            "invoice": s.invoice,
            "color": s.color,
            "logable": s.logable,
            "shipped": s.shipped,
            "paid": s.paid,
            "pdf_delivery": s.pdf_delivery,
            "pdf_invoice": s.pdf_invoice,
            "deleted": s.deleted,
            "name": s.name,
            "template": s.template,
        }
        for s in state.order_states.values()
    ]


def order_histories(state: PrestaShopState) -> list[Record]:
    return [
        {
            "id": h.id,
            "id_employee": h.id_employee,
            "id_order_state": h.id_order_state,
            "id_order": h.id_order,
            "date_add": h.date_add,
        }
        for h in state.histories.values()
    ]


def customers(state: PrestaShopState) -> list[Record]:
    return [
        {
            "id": c.id,
            "id_default_group": 2 if c.is_guest else 3,
            "id_lang": c.id_lang,
            "newsletter_date_add": c.date_add if c.newsletter else records.ZERO_DATE,
            "ip_registration_newsletter": "",
            "last_passwd_gen": c.date_add,
            "secure_key": c.secure_key,
            "deleted": False,
            # A bcrypt-shaped placeholder: real shops return the hash, never log it.
            "passwd": "$2y$10$" + c.secure_key.ljust(53, "x")[:53],
            "lastname": c.lastname,
            "firstname": c.firstname,
            "email": c.email,
            "id_gender": c.id_gender,
            "birthday": c.birthday,
            "newsletter": c.newsletter,
            "optin": False,
            "website": "",
            "company": c.company,
            "siret": c.siret,
            "ape": c.ape,
            "outstanding_allow_amount": records.ZERO,
            "show_public_prices": False,
            "id_risk": 0,
            "max_payment_days": 0,
            "active": True,
            "note": "",
            "is_guest": c.is_guest,
            "id_shop": 1,
            "id_shop_group": 1,
            "date_add": c.date_add,
            "date_upd": c.date_add,
            "reset_password_token": "",
            "reset_password_validity": records.ZERO_DATE,
            "associations": {"groups": [{"id": 2 if c.is_guest else 3}]},
        }
        for c in state.customers.values()
    ]


def addresses(state: PrestaShopState) -> list[Record]:
    return [
        {
            "id": a.id,
            "id_customer": a.id_customer,
            "id_manufacturer": 0,
            "id_supplier": 0,
            "id_warehouse": 0,
            "id_country": a.id_country,
            "id_state": 0,
            "alias": a.alias,
            "company": a.company,
            "lastname": a.lastname,
            "firstname": a.firstname,
            "vat_number": a.vat_number,
            "address1": a.address1,
            "address2": a.address2,
            "postcode": a.postcode,
            "city": a.city,
            "other": a.other,
            "phone": a.phone,
            "phone_mobile": a.phone_mobile,
            "dni": a.dni,
            "deleted": a.deleted,
            "date_add": a.date_add,
            "date_upd": a.date_add,
        }
        for a in state.addresses.values()
    ]


def countries(state: PrestaShopState) -> list[Record]:
    return [
        {
            "id": c.id,
            "id_zone": c.id_zone,
            "id_currency": 0,
            "call_prefix": c.call_prefix,
            "iso_code": c.iso_code,
            "active": True,
            "contains_states": c.iso_code == "US",
            "need_identification_number": False,
            "need_zip_code": c.need_zip_code,
            "zip_code_format": c.zip_code_format,
            "display_tax_label": True,
            "name": c.name,
        }
        for c in state.countries.values()
    ]


def currencies(state: PrestaShopState) -> list[Record]:
    langs = list(state.languages)
    return [
        {
            "id": c.id,
            "names": {lang: c.name for lang in langs},
            "name": c.name,
            "symbol": {lang: c.symbol for lang in langs},
            "iso_code": c.iso_code,
            "numeric_iso_code": c.numeric_iso_code,
            "precision": c.precision,
            "conversion_rate": c.conversion_rate,
            "deleted": False,
            "active": True,
            "unofficial": False,
            "modified": False,
            "pattern": {lang: "" for lang in langs},
        }
        for c in state.currencies.values()
    ]


def taxes(state: PrestaShopState) -> list[Record]:
    return [
        {"id": t.id, "rate": t.rate, "active": True, "deleted": False, "name": t.name}
        for t in state.taxes.values()
    ]


def carriers(state: PrestaShopState) -> list[Record]:
    return [
        {
            "id": c.id,
            "deleted": False,
            "is_module": False,
            "id_tax_rules_group": c.id_tax_rules_group,
            "id_reference": c.id,
            "name": c.name,
            "active": True,
            "is_free": c.tax_rate == 0 and c.id == 1,
            "url": c.url,
            "shipping_handling": True,
            "shipping_external": False,
            "range_behavior": False,
            "shipping_method": 2,
            "max_width": 0,
            "max_height": 0,
            "max_depth": 0,
            "max_weight": records.ZERO,
            "grade": 0,
            "external_module_name": "",
            "need_range": False,
            "position": c.id - 1,
            "delay": c.delay,
        }
        for c in state.carriers.values()
    ]


def order_payments(state: PrestaShopState) -> list[Record]:
    return [
        {
            "id": p.id,
            "order_reference": p.order_reference,
            "id_currency": p.id_currency,
            "amount": p.amount,
            "payment_method": p.payment_method,
            "conversion_rate": p.conversion_rate,
            "transaction_id": p.transaction_id,
            "card_number": "",
            "card_brand": "",
            "card_expiration": "",
            "card_holder": "",
            "date_add": p.date_add,
        }
        for p in state.payments.values()
    ]


def languages(state: PrestaShopState) -> list[Record]:
    return [
        {
            "id": lang.id,
            "name": lang.name,
            "iso_code": lang.iso_code,
            "locale": lang.locale,
            "language_code": lang.locale.lower(),
            "active": lang.active,
            "is_rtl": False,
            "date_format_lite": "d-m-Y" if lang.iso_code == "nl" else "m/d/Y",
            "date_format_full": "d-m-Y H:i:s" if lang.iso_code == "nl" else "m/d/Y H:i:s",
        }
        for lang in state.languages.values()
    ]


# Sources of records that cost next to nothing are built whole; the order resources build
# only what a request may choose (`records.Wanted`).
SOURCES: dict[str, RecordSource] = {
    "addresses": whole(addresses),
    "carriers": whole(carriers),
    "countries": whole(countries),
    "currencies": whole(currencies),
    "customers": whole(customers),
    "languages": whole(languages),
    "order_carriers": records.order_carriers,
    "order_cart_rules": records.order_cart_rules,
    "order_details": records.order_details,
    "order_histories": whole(order_histories),
    "order_invoices": records.order_invoices,
    "order_payments": whole(order_payments),
    "order_slip": whole(records.order_slips),
    "order_states": whole(order_states),
    "orders": records.orders,
    "taxes": whole(taxes),
}
