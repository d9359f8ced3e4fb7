"""`koppel privacy` — customers' personal data: erase a customer, count keys, rotate.

    koppel privacy erase CONNECTION EMAIL [--dry-run]     a customer, by e-mail
    koppel privacy erase CONNECTION --order REF           a customer without e-mail, by order
    koppel privacy keys CONNECTION                        active and erased customer keys
    koppel privacy rewrap [--dry-run]                     after rotating the privacy key

An erasure publishes the `erased` marker for each of the customer's keys on
`privacy.keys.v1`: the personal data in their order events (every topic, every dead letter,
every service's copy) no longer opens; each service blanks what it holds in clear as it
reads the marker; compaction then drops the keys from the topic (within about an hour).
The key is found by opening the subjects on the topic with the privacy key (the same key
the services wrap customer keys with: `KOPPEL_SECRETS_KEYS`'s `privacy` entry, else
`KOPPEL_SECRETS_KEY`).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from koppel_chassis import EventPublisher, ServiceSettings, TopicNames, create_broker
from koppel_chassis.topic_reader import read_to_end
from koppel_contracts import PRIVACY_KEYS, CustomerKeyEvent, CustomerKeyState
from koppel_privacy import customer_keys, erasures, latest_keys, privacy_box, rewrapped
from prometheus_client import CollectorRegistry

app = typer.Typer(
    no_args_is_help=True, help="Customers' personal data: erase a customer, count, rotate."
)


def _settings() -> ServiceSettings:
    return ServiceSettings(service_name="koppel-cli")


async def read_keys(settings: ServiceSettings) -> dict[str, CustomerKeyEvent]:
    topic = TopicNames(settings.topic_prefix).name(PRIVACY_KEYS)
    records = await read_to_end(settings.kafka_bootstrap_servers, topic)
    return latest_keys((r.key, r.value) for r in records)


async def publish_keys(settings: ServiceSettings, events: list[CustomerKeyEvent]) -> None:
    broker = create_broker(settings, CollectorRegistry())
    try:  # stop it also when connecting failed: it holds a producer either way
        await broker.connect()
        publisher = EventPublisher(broker, TopicNames(settings.topic_prefix))
        for event in events:
            await publisher.publish(PRIVACY_KEYS, event)
    finally:
        await broker.stop()


@app.command("erase")
def erase(
    connection_id: Annotated[str, typer.Argument(help="The connection (koppeling)")],
    email: Annotated[str | None, typer.Argument(help="The customer's e-mail address")] = None,
    order: Annotated[
        str | None, typer.Option(help="A customer without e-mail: the order's ref")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Show what would be erased; publish nothing")] = (
        False
    ),
) -> None:
    """Erase a customer's personal data from Koppel: everywhere, for good."""
    if (email is None) == (order is None):
        typer.secho("give the customer's e-mail or --order, not both", fg="red", err=True)
        raise typer.Exit(2)
    if email is not None and "@" not in email:
        typer.secho(f"{email!r} is not an e-mail address", fg="red", err=True)
        raise typer.Exit(2)
    settings = _settings()
    box = privacy_box(settings)
    found = customer_keys(
        asyncio.run(read_keys(settings)), box, connection_id, email=email, order_ref=order
    )
    who = email or f"the customer of order {order}"
    if found.unreadable:
        typer.secho(
            f"{found.unreadable} key(s) of {connection_id} do not open with this privacy key:"
            " they may be this customer's too (is the rotated key given?)",
            fg="yellow",
            err=True,
        )
    if not found.active:
        typer.echo(
            f"nothing to erase: no active key of {who} in {connection_id}"
            " (never ordered, or erased before)"
        )
        return
    ids = ", ".join(k.key_id for k in found.active)
    if dry_run:
        typer.echo(f"would erase {len(found.active)} key(s) of {who} in {connection_id}: {ids}")
        return
    asyncio.run(publish_keys(settings, erasures(found.active)))
    typer.echo(
        f"erased {len(found.active)} key(s) of {who} in {connection_id}: {ids}\n"
        "Their order events no longer open anywhere; each service blanks what it holds as it"
        " reads the erasure, and the keys leave the topic at its next compaction."
    )


@app.command("keys")
def keys(connection_id: Annotated[str, typer.Argument(help="The connection")]) -> None:
    """How many customers of the connection have a key, and how many were erased."""
    found = asyncio.run(read_keys(_settings()))
    ours = [k for k in found.values() if k.connection_id == connection_id]
    active = sum(1 for k in ours if k.state == CustomerKeyState.ACTIVE)
    typer.echo(f"{connection_id}: {active} active customer key(s), {len(ours) - active} erased")


@app.command("rewrap")
def rewrap(
    dry_run: Annotated[bool, typer.Option(help="Count only; publish nothing")] = False,
) -> None:
    """Re-publish every active customer key wrapped with the newest privacy key.

    Give the services "new,old" first; drop the old key once they all have the re-wrapped
    keys."""
    settings = _settings()
    fresh = rewrapped(asyncio.run(read_keys(settings)), privacy_box(settings))
    if not dry_run:
        asyncio.run(publish_keys(settings, fresh))
    verb = "would re-wrap" if dry_run else "re-wrapped"
    typer.echo(f"{verb} {len(fresh)} active customer key(s)")
