"""What a Cairn archive root adds to a ThyWill import: account events and actors named by external id.

`read_thywill_archive` reads both formats; `archives.importer` links people by username_key. This module
sits between them: it replays the archived account events (users, roles, invites) through
`accounts.services`, then names each Cairn event's actor and each Cairn file's author by the key of the
user with that external id, so the importer links them like any other mention.
"""

import dataclasses
from datetime import UTC

from django.core.exceptions import ValidationError
from django.db.models.functions import Coalesce

from accounts import services as account_services
from accounts.models import User
from archives.thywill import LegacyArchive, LegacyQuarantine, LegacyUser
from integrity import merge
from integrity import services as integrity
from lib.batching import batched


def apply_account_events(archive: LegacyArchive, *, execute: bool) -> dict:
    """Replay the archive's account events (only with `execute`); quarantine those that cannot apply."""
    events = [(event.at, event.event, event.data) for event in archive.account_events]
    if not execute or not events:
        return {}
    result = account_services.replay_account_events(events=events)
    for index, why in result.problems:
        at, event, data = events[index]
        archive.quarantine.append(
            LegacyQuarantine(
                reason="account_event_not_applied",
                source=f"cairn:users/{at.astimezone(UTC):%Y_%m}_users.txt",
                payload={"at": at.astimezone(UTC).isoformat(), "event": event, "data": data, "why": why},
            )
        )
    return dict(result.changed)


def resolve_external_ids(archive: LegacyArchive) -> LegacyArchive:
    """Name Cairn actors and authors by the username_key of the user with their external id.

    A user with that id must exist (created by the account events, or earlier): otherwise the event keeps a
    null actor and is quarantined as `unresolved_actor`, never guessed from the display name.
    """
    mentioned = {event.actor_id for prayer in archive.prayers for event in prayer.events if event.actor_id}
    mentioned |= {prayer.author_id for prayer in archive.prayers if prayer.author_id}
    if not mentioned:
        return archive
    keys, users = {}, dict(archive.users)
    # A merged user's id stands for the user it was merged into, as it does in the live database.
    key_now = Coalesce("merged_into__username_key", "username_key")
    name_now = Coalesce("merged_into__username", "username")
    for chunk in batched(mentioned, 500):
        for external_id, key, username in User.objects.filter(external_id__in=chunk).values_list(
            "external_id", key_now, name_now
        ):
            keys[external_id] = key
            users.setdefault(key, LegacyUser(key, username, None, True, f"external id {external_id}"))
    prayers = []
    for prayer in archive.prayers:
        events = tuple(_resolved(event, keys, prayer.archive_id, archive.quarantine) for event in prayer.events)
        author_key = prayer.author_key or keys.get(prayer.author_id)
        prayers.append(dataclasses.replace(prayer, events=events, author_key=author_key))
    return dataclasses.replace(archive, users=users, prayers=prayers)


def _resolved(event, keys: dict, archive_id: str, quarantine: list):
    if event.actor_id is None:
        return event
    key = keys.get(event.actor_id)
    if key is None:
        quarantine.append(
            LegacyQuarantine(
                reason="unresolved_actor",
                source=f"cairn:{archive_id}",
                payload={
                    "archive_id": archive_id,
                    "actor_id": event.actor_id,
                    "kind": event.kind,
                    "at": event.at.astimezone(UTC).isoformat(),
                },
            )
        )
    return dataclasses.replace(event, actor_key=key)


def apply_merges(archive: LegacyArchive, *, execute: bool) -> int:
    """Replay the archive's merges of users with the merge engine, once the import has made every user.

    A merge moves rows of every app (prayers, events, invites, the invite tree), so it runs after them, and
    through the same engine and policies as the live merge did. Only each loser's last merge event counts: a
    merge that was undone later is not replayed. Idempotent: a loser already merged is left alone. With
    `execute` False, returns how many merges would be replayed.
    """
    last = {}
    for event in archive.account_events:
        if event.event in ("merged", "unmerged"):
            last[event.data["user"]] = event
    merges = [event for event in last.values() if event.event == "merged"]
    if not execute:
        return len(merges)
    replayed = 0
    for event in sorted(merges, key=lambda e: e.at):
        users = {
            u.external_id: u for u in User.objects.filter(external_id__in=[event.data["user"], event.data["into"]])
        }
        loser, survivor = users.get(event.data["user"]), users.get(event.data["into"])
        why = None
        if loser is None or survivor is None:
            why = "a user it names does not exist"
        elif loser.merged_into_id is not None:
            continue
        else:
            plan = merge.plan_merge(survivor=survivor, losers=[loser])
            try:
                merge.execute_merge(plan=plan, description="merge replayed from the text archive", archive=False)
                replayed += 1
                continue
            except ValidationError as error:
                why = " ".join(error.messages)
        integrity.quarantine(
            source=f"cairn:users/{event.at.astimezone(UTC):%Y_%m}_users.txt",
            reason="account_event_not_applied",
            payload={"at": event.at.astimezone(UTC).isoformat(), "event": "merged", "data": event.data, "why": why},
        )
    return replayed
