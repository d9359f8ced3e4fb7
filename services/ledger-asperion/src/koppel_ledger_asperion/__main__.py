"""`python -m koppel_ledger_asperion`: run the service (settings from KOPPEL_LEDGER_ASPERION_*)."""

from .app import build

if __name__ == "__main__":
    build().run()
