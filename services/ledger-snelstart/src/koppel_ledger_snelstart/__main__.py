"""`python -m koppel_ledger_snelstart`: run the service (settings: KOPPEL_LEDGER_SNELSTART_*)."""

from .app import build

if __name__ == "__main__":
    build().run()
