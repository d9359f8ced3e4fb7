"""`python -m koppel_ingest_ccv`: run the service (settings from KOPPEL_INGEST_CCV_* env)."""

from .app import build
from .settings import IngestCcvSettings

if __name__ == "__main__":
    build(IngestCcvSettings()).run()
