"""`python -m koppel_ingest_bol`: run the service (settings from KOPPEL_INGEST_BOL_* env)."""

from .app import build
from .settings import IngestBolSettings

if __name__ == "__main__":
    build(IngestBolSettings()).run()
