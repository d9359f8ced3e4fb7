"""Commands a person gives about orders (`ledger.commands.v1`): book again now.

"Verwerk" on one order: the order gets a fresh count of attempts and this worker takes it
at once, ahead of the schedule. "Verwerk alle" for a filter (states, received since): the
selected orders are due now and the scheduler takes them, a few at a time. Only the ledger
service of the connection's ledger acts; booked orders are never selected, so a command
sent twice books nothing twice (the runtime's exactly-once holds as for any retry).

A held connection (credentials refused) is released for the attempt: the person may have
fixed it in the ledger itself. Refused again, it is held again — without a second alert.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from koppel_chassis import log_context
from koppel_contracts import LedgerCommand, LedgerCommandKind

from .records import State
from .runtime import LedgerRuntime
from .store import RetrySelection

log = logging.getLogger(__name__)

MAX_AGE = timedelta(hours=1)


async def on_command(runtime: LedgerRuntime, command: LedgerCommand) -> list[str]:
    """Act on a command; returns the orders it selected."""
    if runtime.clock() - command.occurred_at > MAX_AGE:
        # A service starting for the first time reads the topic from its beginning.
        log.info("command too old, not acted on", extra={"event_id": command.event_id})
        return []
    current = await runtime.connections.current(command.connection_id)
    if current is None or current[0].ledger.system != runtime.adapter.system:
        return []  # another ledger's connection (or one this service does not know)
    selection = RetrySelection.of(command)
    with log_context(connection_id=command.connection_id, order_ref=command.order_ref):
        if State.HELD in selection.states:
            hold = await runtime.holds.get(command.connection_id)
            if hold is not None and hold.held:
                await runtime.holds.release(command.connection_id, current[1] + 1)
        selected = await runtime.store.retry(selection)
        log.info(
            "retry requested",
            extra={
                "kind": command.kind.value,
                "orders": len(selected),
                "requested_by": command.requested_by,
            },
        )
        if command.kind is LedgerCommandKind.RETRY_ORDER and selected:
            await runtime.work(selected[0])  # with priority: now, not in the queue
        elif selected:
            runtime.wake.set()
    return selected
