"""The resources the sandbox serves, described the way PrestaShop's ObjectModel
describes them to its webservice: fields in output order (`id`, then the
`$webserviceParameters` fields, then the remaining `$definition` fields), their
type (which decides XML text, JSON typing and how a filter compares), the
`xlink_resource` of foreign keys, getter fields (`notFilterable`), hidden fields
and associations. Field lists follow prestashop.md §7–§9.
"""

from __future__ import annotations

from .fields import Association, Field, Kind, Resource
from .resources_orders import (
    ORDER_CARRIERS,
    ORDER_CART_RULES,
    ORDER_DETAILS,
    ORDER_HISTORIES,
    ORDER_INVOICES,
    ORDER_PAYMENTS,
    ORDER_SLIP,
    ORDERS,
)
from .resources_shop import (
    ADDRESSES,
    CARRIERS,
    COUNTRIES,
    CURRENCIES,
    CUSTOMERS,
    LANGUAGES,
    ORDER_STATES,
    TAXES,
)

__all__ = ["MODELLED", "Association", "Field", "Kind", "Resource"]

MODELLED: dict[str, Resource] = {
    r.name: r
    for r in (
        ADDRESSES,
        CARRIERS,
        COUNTRIES,
        CURRENCIES,
        CUSTOMERS,
        LANGUAGES,
        ORDER_CARRIERS,
        ORDER_CART_RULES,
        ORDER_DETAILS,
        ORDER_HISTORIES,
        ORDER_INVOICES,
        ORDERS,
        ORDER_PAYMENTS,
        ORDER_STATES,
        ORDER_SLIP,
        TAXES,
    )
}
