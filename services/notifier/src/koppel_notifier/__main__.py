"""`python -m koppel_notifier`: run the notifier until SIGTERM."""

from .app import build
from .settings import NotifierSettings


def main() -> None:
    build(NotifierSettings()).run()


if __name__ == "__main__":
    main()
