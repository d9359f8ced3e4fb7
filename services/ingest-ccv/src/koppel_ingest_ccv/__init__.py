"""ingest-ccv: CCV Shop orders to Koppel's canonical order events."""
