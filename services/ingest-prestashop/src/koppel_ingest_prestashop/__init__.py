"""ingest-prestashop: PrestaShop orders onto shop.orders.v1 (the ingest runtime's adapter)."""
