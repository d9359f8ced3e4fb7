"""`python -m koppel_dashboard`: serve the dashboard until SIGTERM."""

from .app import build
from .settings import DashboardSettings


def main() -> None:
    build(DashboardSettings()).run()  # type: ignore[call-arg]  # cookie_secret from the env


if __name__ == "__main__":
    main()
