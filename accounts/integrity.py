"""Defect checks and fixes for users, run by `manage.py doctor` and `manage.py heal`."""

from collections.abc import Iterator

from django.contrib.admin.models import LogEntry

from accounts import services
from accounts.identity import KEY_VERSION, username_key
from accounts.models import User, possible_duplicates
from integrity import merge
from integrity.registry import SAMPLE_SIZE, Change, Finding, Plan, check
from lib.batching import batched

CHUNK = 2000


def _stale_keys() -> Iterator[tuple[int, str, int, str]]:
    """(pk, stored key, stored version, current key) of every user whose key is not current: one query."""
    rows = User._base_manager.order_by("pk").values_list("pk", "username", "username_key", "username_key_version")
    for pk, name, key, version in rows.iterator(chunk_size=CHUNK):
        current = username_key(name)
        if key != current or version != KEY_VERSION:
            yield pk, key, version, current


@check("accounts.stale_username_key", hint="Run `manage.py heal --only accounts.stale_username_key` to recompute.")
def stale_username_keys() -> Finding:
    """Users whose stored username_key is not the key of their name at the current KEY_VERSION."""
    stale = [pk for pk, *_ in _stale_keys()]
    return Finding(count=len(stale), sample=stale[:SAMPLE_SIZE])


@stale_username_keys.fix
def recompute_username_keys() -> Plan:
    plan = Plan()
    stale = list(_stale_keys())
    holders = {}
    for chunk in batched({current for *_, current in stale}, 500):
        holders.update(User._base_manager.filter(username_key__in=chunk).values_list("username_key", "pk"))
    claimed: dict[str, int] = {}
    for pk, key, version, current in stale:
        holder = holders.get(current, claimed.get(current))
        if holder not in (None, pk):
            plan.skipped.append(
                f"accounts.user {pk}: its current key {current!r} belongs to user {holder}; "
                "they are probably one person (merge them, then heal again)."
            )
            continue
        claimed[current] = pk
        plan.changes.append(
            Change(
                model=User,
                pk=pk,
                before={"username_key": key, "username_key_version": version},
                after={"username_key": current, "username_key_version": KEY_VERSION},
            )
        )
    return plan


@check(
    "accounts.possible_duplicate_user",
    hint="Review them in the admin (search the name); merge the ones that are one person.",
)
def possible_duplicate_users() -> Finding:
    """Users whose names are equal once all spaces are removed (e.g. "Grace Lee" and "GraceLee")."""
    return Finding.from_queryset(possible_duplicates())


@check("accounts.dangling_inviter", hint="Set invited_by in the admin to the real inviter, or clear it.")
def dangling_inviters() -> Finding:
    """Users whose invited_by points at a user that does not exist."""
    return Finding.from_queryset(
        User._base_manager.filter(invited_by__isnull=False).exclude(invited_by_id__in=User._base_manager.values("pk"))
    )


@check("accounts.invite_cycle", hint="Break the cycle in the admin: clear invited_by on the user who joined first.")
def invite_cycles() -> Finding:
    """Users whose chain of inviters loops back on itself instead of reaching someone who joined directly."""
    parents = dict(
        User._base_manager.filter(invited_by__isnull=False)
        .values_list("pk", "invited_by_id")
        .iterator(chunk_size=CHUNK)
    )
    in_cycle = sorted(_cycle_members(parents))
    return Finding(count=len(in_cycle), sample=in_cycle[:SAMPLE_SIZE])


def _cycle_members(parents: dict[int, int]) -> set[int]:
    """The nodes that lie on a cycle of the child → parent map, in linear time."""
    done: set[int] = set()
    on_cycle: set[int] = set()
    for start in parents:
        path: dict[int, int] = {}  # node → position on the current walk
        node = start
        while node in parents and node not in done and node not in path:
            path[node] = len(path)
            node = parents[node]
        if node in path:  # the walk came back to itself: the tail from `node` is a cycle
            walk = list(path)
            on_cycle.update(walk[path[node] :])
        done.update(path)
    return on_cycle


# --- Merging users (integrity.merge): relations that need more than "move to the survivor" ------------------

# The survivor invited by a loser would be invited by itself once they are one person: no inviter.
merge.declare(User, "invited_by", merge.Reassign(updates={"invited_by": None}))
# The admin's history says who did what; it stays on the loser's tombstone, as it happened.
merge.declare(LogEntry, "user", merge.Keep())
# Staff may keep a loser's contact details (names and roles go through archived account events instead).
merge.declare_fields(User, ["first_name", "last_name", "email", "phone_number"])
# Merges of users are account events in the text archive, so a rebuild has the same people.
merge.declare_archiver(User, services.archive_user_merge)
