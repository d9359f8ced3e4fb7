"""`koppel accounts` against the dashboard's real database."""

import asyncio

from koppel_cli.main import app
from koppel_dashboard.accounts import AccountStore
from typer.testing import CliRunner


class Cli:
    """The CLI runs its own event loop (asyncio.run), so tests call it from a thread."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.runner = CliRunner()

    async def __call__(self, *args: str, input: str | None = None):
        return await asyncio.to_thread(
            self.runner.invoke, app, list(args), env=self.env, input=input
        )


async def test_create_list_disable_an_account_in_the_dashboards_database(
    mongodb_uri, mongo_db
) -> None:
    koppel = Cli({"KOPPEL_MONGODB_URI": mongodb_uri, "KOPPEL_MONGODB_DATABASE": mongo_db.name})
    made = await koppel(
        "accounts",
        "create",
        "Jan@DeBoon.nl",
        "--role",
        "merchant",
        "-c",
        "deboon",
        "-c",
        "deboon-bol",
        "--password-stdin",
        input="een heel goed wachtwoord\n",
    )
    assert made.exit_code == 0, made.output
    assert "created merchant account jan@deboon.nl (deboon, deboon-bol)" in made.output
    store = AccountStore(mongo_db["accounts"])
    assert await store.authenticate("jan@deboon.nl", "een heel goed wachtwoord") is not None

    prompted = await koppel(
        "accounts",
        "create",
        "help@koppel.nl",
        "--role",
        "support",
        input="nog een goed wachtwoord\nnog een goed wachtwoord\n",
    )
    assert prompted.exit_code == 0, prompted.output
    assert "nog een goed wachtwoord" not in prompted.output, "the password is not echoed"

    listed = await koppel("accounts", "list")
    lines = listed.output.splitlines()
    assert lines[1].split() == ["help@koppel.nl", "support", "yes", "nl", "*"]
    assert lines[2].split() == ["jan@deboon.nl", "merchant", "yes", "nl", "deboon,deboon-bol"]

    disabled = await koppel("accounts", "disable", "jan@deboon.nl")
    assert disabled.exit_code == 0 and "disabled jan@deboon.nl" in disabled.output
    assert await store.authenticate("jan@deboon.nl", "een heel goed wachtwoord") is None
    assert (await koppel("accounts", "disable", "niemand@deboon.nl")).exit_code == 1


async def test_a_merchant_without_connection_or_a_short_password_is_refused(
    mongodb_uri, mongo_db
) -> None:
    koppel = Cli({"KOPPEL_MONGODB_URI": mongodb_uri, "KOPPEL_MONGODB_DATABASE": mongo_db.name})
    none = await koppel(
        "accounts",
        "create",
        "a@b.nl",
        "--role",
        "merchant",
        "--password-stdin",
        input="een heel goed wachtwoord\n",
    )
    assert none.exit_code == 1 and "at least one connection" in none.output
    short = await koppel(
        "accounts", "create", "a@b.nl", "--role", "support", "--password-stdin", input="kort\n"
    )
    assert short.exit_code == 1 and "12 characters" in short.output
    assert await mongo_db["accounts"].count_documents({}) == 0
