"""`python -m koppel_ledger_octopus`: run the service (settings from KOPPEL_LEDGER_OCTOPUS_*)."""

from .app import build

if __name__ == "__main__":
    build().run()
