"""`python -m koppel_ingest_prestashop`: run the service (KOPPEL_INGEST_PRESTASHOP_* env)."""

from .app import build
from .settings import IngestPrestashopSettings

if __name__ == "__main__":
    build(IngestPrestashopSettings()).run()
