"""ingest-bol: Bol.com orders onto shop.orders.v1, on the ingest runtime."""
