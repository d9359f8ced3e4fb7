"""The outbox's single-document guarantees on the real MongoDB-compatible server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from koppel_chassis import ensure_indexes
from koppel_notifier.state import INDEXES, Channel, NewNotification, Outbox


class ManualClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _note(connection_id: str, n: int, kind: str = "persistent_failure") -> NewNotification:
    return NewNotification(
        connection_id=connection_id,
        cause_key=f"{kind}:{n}",
        kind=kind,
        event_id=f"e{n}",
        occurred_at=datetime(2026, 11, 20, 11, 0, tzinfo=UTC) + timedelta(seconds=n),
        item={"order_ref": str(n), "reason": "r", "suggestion": "s"},
        channel=Channel.IMMEDIATE,
    )


async def _outbox(mongo_db) -> tuple[Outbox, ManualClock]:
    await ensure_indexes(mongo_db, INDEXES)
    clock = ManualClock()
    return Outbox(mongo_db, clock), clock


async def test_recording_a_cause_twice_keeps_one_notification(mongo_db) -> None:
    outbox, clock = await _outbox(mongo_db)
    assert await outbox.record(_note("c1", 1), clock.now) is True
    assert await outbox.record(_note("c1", 1), clock.now) is False
    assert await outbox.record(_note("c2", 1), clock.now) is True  # same cause, other connection
    assert await mongo_db["notifications"].count_documents({}) == 2


async def test_racing_formers_put_each_notification_in_exactly_one_mail(mongo_db) -> None:
    outbox, clock = await _outbox(mongo_db)
    for n in range(30):
        await outbox.record(_note("c1", n), clock.now)
    # Different time slots, so all five formers really race for the claims.
    results = await asyncio.gather(*(outbox.form_mail("c1", 200, 60 + s) for s in range(5)))
    formed = [r for r in results if r is not None]
    assert formed, "someone formed a mail"
    mails = await mongo_db["mails"].find({}).to_list(None)
    members = [m for mail in mails for m in mail["members"]]
    assert len(members) == 30 and len(set(members)) == 30, "each notification in one mail"
    notes = await mongo_db["notifications"].find({}).to_list(None)
    assert {n["status"] for n in notes} == {"batched"}
    by_mail = {mail["_id"]: set(mail["members"]) for mail in mails}
    for note in notes:
        assert note["_id"] in by_mail[note["mail_id"]]


async def test_formers_with_the_same_trigger_form_one_mail(mongo_db) -> None:
    outbox, clock = await _outbox(mongo_db)
    for n in range(10):
        await outbox.record(_note("c1", n), clock.now)
    results = await asyncio.gather(*(outbox.form_mail("c1", 200, 60) for _ in range(5)))
    assert sorted(r[1] for r in results if r is not None) == [10]
    assert await mongo_db["mails"].count_documents({}) == 1


async def test_racing_senders_claim_each_mail_once(mongo_db) -> None:
    outbox, clock = await _outbox(mongo_db)
    for c in range(12):
        await outbox.record(_note(f"c{c}", 1), clock.now)
        await outbox.form_mail(f"c{c}", 200, 60)
    claimed: list[str] = []

    async def sender(owner: str) -> None:
        while (mail := await outbox.claim_mail(owner, timedelta(minutes=1))) is not None:
            claimed.append(mail.mail_id)
            assert [i["order_ref"] for i in mail.items] == ["1"]

    await asyncio.gather(*(sender(f"replica-{r}") for r in range(4)))
    assert len(claimed) == 12
    assert len(set(claimed)) == 12


async def test_a_mail_whose_sender_vanished_goes_out_again_after_its_lease(mongo_db) -> None:
    outbox, clock = await _outbox(mongo_db)
    await outbox.record(_note("c1", 1), clock.now)
    await outbox.form_mail("c1", 200, 60)
    first = await outbox.claim_mail("replica-a", timedelta(seconds=35))
    assert first is not None and first.attempt == 1
    assert await outbox.claim_mail("replica-b", timedelta(seconds=35)) is None, "leased"

    clock.now += timedelta(seconds=36)  # replica-a died mid-send (or is hopelessly stuck)
    second = await outbox.claim_mail("replica-b", timedelta(seconds=35))
    assert second is not None and second.mail_id == first.mail_id and second.attempt == 2

    await outbox.mark_sent(second, message_id="<m>", recipient="a@b.nl", subject="s")
    # replica-a's late failure report changes nothing about the sent mail.
    await outbox.mark_failed(first, clock.now + timedelta(hours=1), "late")
    clock.now += timedelta(hours=2)
    assert await outbox.claim_mail("replica-c", timedelta(seconds=35)) is None
    mail = await mongo_db["mails"].find_one({})
    assert mail["status"] == "sent" and mail["attempts"] == 2 and mail["recipient"] == "a@b.nl"
    assert (await mongo_db["notifications"].find_one({}))["status"] == "sent"


async def test_a_lost_sent_status_is_repaired_from_the_attempt(mongo_db) -> None:
    outbox, clock = await _outbox(mongo_db)
    await outbox.record(_note("c1", 1), clock.now)
    mail_id, _ = await outbox.form_mail("c1", 200, 60)
    claimed = await outbox.claim_mail("replica-a", timedelta(seconds=35))
    # The attempt was recorded as sent, but the mail's own status write got lost.
    await mongo_db["attempts"].update_one(
        {"_id": claimed.attempt_id}, {"$set": {"outcome": "sent", "finished_at": clock.now}}
    )
    clock.now += timedelta(minutes=5)
    assert await outbox.claim_mail("replica-b", timedelta(seconds=35)) is None
    assert (await mongo_db["mails"].find_one({"_id": mail_id}))["status"] == "sent"
    assert (await mongo_db["notifications"].find_one({}))["status"] == "sent"


async def test_claims_of_a_mail_never_formed_are_released(mongo_db) -> None:
    outbox, clock = await _outbox(mongo_db)
    await outbox.record(_note("c1", 1), clock.now)
    await outbox.record(_note("c1", 2), clock.now)
    # A replica claimed notification 1 for its mail, then died before inserting the mail.
    await mongo_db["claims"].insert_one(
        {
            "_id": "c1|persistent_failure:1",
            "connection_id": "c1",
            "mail_id": "m-never",
            "claimed_at": clock.now,
            "confirmed": False,
        }
    )
    await outbox.recover(stale_after=timedelta(seconds=30))
    assert await mongo_db["claims"].count_documents({}) == 1, "too early to call it dead"

    clock.now += timedelta(seconds=31)
    await outbox.recover(stale_after=timedelta(seconds=30))
    assert await mongo_db["claims"].count_documents({}) == 0
    formed = await outbox.form_mail("c1", 200, 60)
    assert formed is not None and formed[1] == 2, "both notifications in the next mail"


async def test_a_broken_cause_reopens_only_for_a_break_after_the_restore(mongo_db) -> None:
    outbox, clock = await _outbox(mongo_db)
    t = clock.now
    assert await outbox.open_broken_cause("c1", "creds", t) == 1
    assert await outbox.open_broken_cause("c1", "creds", t + timedelta(minutes=5)) == 1
    assert await outbox.close_broken_causes("c1", t + timedelta(minutes=10)) == 1
    # A replayed break from before the restore stays silent ...
    assert await outbox.open_broken_cause("c1", "creds", t + timedelta(minutes=5)) is None
    # ... a new one is a new episode.
    assert await outbox.open_broken_cause("c1", "creds", t + timedelta(minutes=20)) == 2
    assert await outbox.open_broken_cause("c2", "creds", t) == 1


async def test_a_restore_cancels_a_broken_mail_not_yet_formed(mongo_db) -> None:
    outbox, clock = await _outbox(mongo_db)
    broken = NewNotification(
        connection_id="c1",
        cause_key="connection_broken:creds#1",
        kind="connection_broken",
        event_id="b1",
        occurred_at=clock.now,
        item={},
    )
    await outbox.record(broken, clock.now + timedelta(seconds=60))
    await outbox.record(_note("c1", 7), clock.now + timedelta(seconds=60))
    await outbox.open_broken_cause("c1", "creds", clock.now)
    await outbox.close_broken_causes("c1", clock.now + timedelta(seconds=5))
    statuses = {
        n["kind"]: n["status"]
        async for n in mongo_db["notifications"].find({"connection_id": "c1"})
    }
    assert statuses == {"connection_broken": "cancelled", "persistent_failure": "pending"}
