"""`koppel topics` — create every contract topic, idempotently.

    koppel topics ensure --partitions 12 --replication-factor 3 --retention-ms 2592000000
    koppel topics ensure --partitions 3 --replication-factor 1 --prefix dev. --dry-run

Every topic in `koppel_contracts.ALL_TOPICS` is created with its dead-letter
topic (`<topic>.dlq`). The compacted settings topic gets `cleanup.policy=compact`
(latest settings per connection are kept forever, no retention); every other
topic gets `cleanup.policy=delete` and the given retention, so a range can be
replayed for as long as it is retained.

Safe to run on every deploy (the Helm chart runs it as a pre-install/pre-upgrade
hook): topics that exist are kept; a config that differs from the wanted one
(retention, cleanup policy, `--config` extras) is updated; other per-topic
settings someone made by hand are preserved. Partitions are never added: more
partitions move keys to other partitions and break per-order ordering, so a
topic with fewer partitions than asked is reported, not changed.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from koppel_chassis import ServiceSettings
from koppel_chassis.topic_admin import TopicError, ensure_topics, plan_topics

app = typer.Typer(no_args_is_help=True, help="Kafka topics: create the contract topics.")


def _parse_configs(pairs: list[str]) -> dict[str, str]:
    configs: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--config")
        configs[key.strip()] = value.strip()
    return configs


@app.command("ensure")
def ensure(
    partitions: Annotated[
        int, typer.Option(min=1, help="Partitions per topic (consumers scale up to this)")
    ],
    replication_factor: Annotated[
        int, typer.Option(min=1, help="Replicas per partition (3 in production)")
    ],
    retention_ms: Annotated[
        int | None,
        typer.Option(
            min=-1,
            help="retention.ms for the non-compacted topics (-1 keeps forever); "
            "the replay window. Omitted: the broker's default",
        ),
    ] = None,
    prefix: Annotated[
        str | None,
        typer.Option(help="Topic name prefix; default KOPPEL_TOPIC_PREFIX"),
    ] = None,
    config: Annotated[
        list[str] | None,
        typer.Option("--config", help="Extra topic config KEY=VALUE (repeatable)"),
    ] = None,
    bootstrap_servers: Annotated[
        str | None,
        typer.Option(help="Kafka bootstrap servers; default KOPPEL_KAFKA_BOOTSTRAP_SERVERS"),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Only say what would change")] = False,
) -> None:
    """Create every contract topic and its .dlq topic; update configs that differ."""
    settings = ServiceSettings(service_name="koppel-cli")
    specs = plan_topics(
        partitions=partitions,
        replication_factor=replication_factor,
        retention_ms=retention_ms,
        prefix=settings.topic_prefix if prefix is None else prefix,
        extra_configs=_parse_configs(config or []),
    )
    bootstrap = bootstrap_servers or settings.kafka_bootstrap_servers
    try:
        outcomes = asyncio.run(ensure_topics(bootstrap, specs, dry_run=dry_run))
    except (TopicError, OSError) as error:
        typer.secho(f"topics: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    except Exception as error:  # aiokafka connection errors name no class worth catching
        typer.secho(f"topics: Kafka at {bootstrap}: {error!r}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    width = max(len(o.name) for o in outcomes)
    for outcome in outcomes:
        typer.echo(f"{outcome.action:<13} {outcome.name:<{width}}  {outcome.detail}".rstrip())
        for warning in outcome.warnings:
            typer.secho(f"{'warning':<13} {outcome.name:<{width}}  {warning}", err=True)
