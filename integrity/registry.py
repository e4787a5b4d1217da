"""The checks and fixes apps declare in their `integrity.py`.

A check is a function returning a Finding: a set-based query whose number of queries does not grow with
the number of rows. A fix is a function returning a Plan: the changes, computed from SELECTs only, that the
heal command shows and, with --execute, applies and journals. In `<app>/integrity.py`:

    @check("accounts.stale_username_key", hint="Run `manage.py heal` to recompute them.")
    def stale_username_keys() -> Finding:
        \"\"\"Users whose stored username_key is not the current key of their name.\"\"\"
        ...

    @stale_username_keys.fix
    def recompute_username_keys() -> Plan:
        ...
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models

SAMPLE_SIZE = 10


@dataclass(frozen=True)
class Finding:
    count: int
    sample: list = field(default_factory=list)

    @classmethod
    def from_queryset(cls, queryset: models.QuerySet) -> "Finding":
        """Count the rows and sample a few primary keys: two queries, whatever the table size."""
        return cls(
            count=queryset.count(), sample=list(queryset.order_by("pk").values_list("pk", flat=True)[:SAMPLE_SIZE])
        )


@dataclass(frozen=True)
class Change:
    """Set `after` on one row, provided it still holds `before` (values keyed by attname)."""

    model: type[models.Model]
    pk: object
    before: dict
    after: dict

    def __str__(self):
        fields = ", ".join(f"{name} {self.before[name]!r} → {value!r}" for name, value in self.after.items())
        return f"{self.model._meta.label_lower} {self.pk}: {fields}"


@dataclass(frozen=True)
class WriteFile:
    """Create a missing archive file at exactly `name` (relative to CAIRN_ARCHIVE_ROOT); never overwrite."""

    name: str
    content: str

    def __str__(self):
        return f"write {self.name} ({self.content.count(chr(10))} lines) from the database"


@dataclass(frozen=True)
class Delete:
    """Delete one row, provided it still holds `before`; the journal keeps a full copy, so undo puts it back.

    Only for rows nothing else points at (expired records, say): a row in use is skipped, never cascaded.
    """

    model: type[models.Model]
    pk: object
    before: dict

    def __str__(self):
        return f"delete {self.model._meta.label_lower} {self.pk}"


@dataclass
class Plan:
    changes: list[Change | WriteFile | Delete] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # sentences naming the record and the reason


@dataclass
class Check:
    name: str
    description: str
    hint: str
    find: Callable[[], Finding]
    plan_fix: Callable[[], Plan] | None = None

    def fix(self, plan_fix: Callable[[], Plan]) -> Callable[[], Plan]:
        self.plan_fix = plan_fix
        return plan_fix

    @property
    def app_label(self) -> str:
        return self.name.split(".", 1)[0]


_checks: dict[str, Check] = {}


def check(name: str, *, hint: str) -> Callable[[Callable[[], Finding]], Check]:
    """Register the decorated function as the check `name` (`<app_label>.<what>`)."""

    def register(find: Callable[[], Finding]) -> Check:
        if name in _checks and _checks[name].find.__qualname__ != find.__qualname__:
            raise ValueError(f"Two integrity checks are named {name!r}.")
        description = (find.__doc__ or name).strip().splitlines()[0]
        _checks[name] = Check(name=name, description=description, hint=hint, find=find)
        return _checks[name]

    return register


class UnknownCheck(ValueError):
    pass


_attachers: dict[str, Callable] = {}


def attacher(reason: str) -> Callable[[Callable], Callable]:
    """Register how a Quarantine record of `reason` is attached to a user staff name (in an app's integrity.py).

    The function takes `record`, `user` and `acting_user` (keywords), makes the change in one transaction that
    also marks the record resolved, journals it, and returns the RepairJournal; ValidationError when it cannot.
    """

    def register(attach: Callable) -> Callable:
        _attachers[reason] = attach
        return attach

    return register


def get_attacher(reason: str) -> Callable | None:
    return _attachers.get(reason)


def get_check(name: str) -> Check | None:
    return _checks.get(name)


def all_checks() -> list[Check]:
    return sorted(_checks.values(), key=lambda c: c.name)


def select_checks(*, only: list[str] | None = None, exclude: list[str] | None = None) -> list[Check]:
    """The checks named (by full name or app label) in `only`, minus those in `exclude`."""
    checks = all_checks()
    known = {c.name for c in checks} | {c.app_label for c in checks}
    unknown = sorted((set(only or []) | set(exclude or [])) - known)
    if unknown:
        raise UnknownCheck(
            f"Unknown check {', '.join(unknown)}. Valid names: {', '.join(c.name for c in checks)} "
            f"(or an app label: {', '.join(sorted({c.app_label for c in checks}))})."
        )

    def named(c: Check, names: list[str]) -> bool:
        return c.name in names or c.app_label in names

    if only:
        checks = [c for c in checks if named(c, only)]
    return [c for c in checks if not named(c, exclude or [])]
