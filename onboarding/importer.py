"""Write an ALwrity import plan (onboarding.alwrity) into Cairn: idempotent, a savepoint per user.

Rows are matched on their natural keys (User.external_id, the session's user, (session, provider),
(session, url_key), the session's OneToOne children) and written only where a value differs, so a second
import of the same inputs creates, changes and deletes nothing. Quarantine records are matched on
(source, payload.legacy_id).

An import that changed anything is recorded in integrity's RepairJournal (kind "import"): in each
transaction (of up to 100 users), the rows it created (as primary keys), the fields it changed (before and
after) and the lines it appended to the text archive (users it created join there), so `manage.py
undo_repair` takes it back.
"""

import hashlib
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import models, transaction

from accounts import services as accounts_services
from accounts.models import STORED_USERNAME_MAX_LENGTH, User
from integrity import services as integrity_services
from integrity.models import Quarantine, RepairJournal
from integrity.registry import Change
from lib import archive_files
from lib.batching import batched
from onboarding import crypto
from onboarding.alwrity import SOURCE, ImportPlan, UserPlan
from onboarding.models import ApiKey, OnboardingSession, PersonaData, ResearchPreferences, WebsiteAnalysis

PERSONA_FIELDS = ["core_persona", "platform_personas", "quality_metrics", "selected_platforms"]
PREFERENCE_FIELDS = ["research_depth", "content_types", "auto_research", "factual_content"]
LABEL = "import_alwrity"


@dataclass
class ImportReport:
    created: Counter = field(default_factory=Counter)  # model label -> rows created
    updated: Counter = field(default_factory=Counter)  # model label -> rows changed
    unchanged_users: int = 0
    quarantined: Counter = field(default_factory=Counter)  # "source|reason" -> new records
    quarantine_known: int = 0
    problems: list[str] = field(default_factory=list)
    journal_id: int | None = None

    @property
    def changed_anything(self) -> bool:
        return bool(sum(self.created.values()) or sum(self.updated.values()) or sum(self.quarantined.values()))

    def as_dict(self) -> dict:
        return {
            "created": dict(sorted(self.created.items())),
            "updated": dict(sorted(self.updated.items())),
            "unchanged_users": self.unchanged_users,
            "quarantined": dict(sorted(self.quarantined.items())),
            "quarantine_already_there": self.quarantine_known,
            "problems": self.problems,
        }


# Parents before children: undo goes newest first, so it deletes children before their parents.
WRITE_ORDER = [User, OnboardingSession, ApiKey, WebsiteAnalysis, ResearchPreferences, PersonaData]


@dataclass
class _Written:
    """What the import created and changed for one user, then for a transaction's users: for its journal."""

    created: dict[type[models.Model], list] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)

    def add(self, instance: models.Model) -> None:
        self.created.setdefault(type(instance), []).append(instance.pk)

    def anything(self) -> bool:
        return bool(self.created or self.changes)

    def take(self, other: "_Written", report: ImportReport) -> None:
        """Add one user's writes (once their savepoint has held) to these and to the report."""
        for model, pks in other.created.items():
            self.created.setdefault(model, []).extend(pks)
            report.created[model._meta.label_lower] += len(pks)
        self.changes += other.changes
        report.updated.update(change.model._meta.label_lower for change in other.changes)

    def record(self, journal: RepairJournal | None, appended: list) -> None:
        """Save the journal rows: created rows parents first, then appended lines, then changed fields."""
        rows = [
            row
            for model in WRITE_ORDER
            for row in integrity_services.created_rows(
                journal=journal, label=LABEL, model=model, pks=self.created.get(model, [])
            )
        ]
        rows += integrity_services.appended_files(journal=journal, label=LABEL, appends=appended)
        rows += integrity_services.updated_rows(journal=journal, label=LABEL, changes=self.changes)
        integrity_services.record(rows)


def import_plan(
    *, plan: ImportPlan, execute: bool, description: str = "", on_user=None, users_per_transaction: int = 100
) -> ImportReport:
    """Import the plan's users, `users_per_transaction` to a transaction and each in a savepoint: a user the
    rules reject (a ValidationError, named in the report) leaves the others of the transaction imported."""
    report = ImportReport()
    with integrity_services.import_journal(report=report, execute=execute, description=description) as journal:
        for users in batched(plan.users.values(), users_per_transaction):
            if execute:
                _import_users(users, report, journal, on_user)
            else:
                for user_plan in users:
                    _count_user(user_plan, report)
                    if on_user:
                        on_user(1)
        with transaction.atomic():
            _import_quarantine(plan, execute, report, journal)
    return report


def _import_users(users: tuple[UserPlan, ...], report: ImportReport, journal, on_user) -> None:
    with transaction.atomic(), archive_files.recording_appends() as appended:
        written = _Written()
        for user_plan in users:
            mine = _Written()
            try:
                with transaction.atomic():
                    _import_user(user_plan, mine)
            except ValidationError as error:
                report.problems.append(f"{user_plan.external_id}: {' '.join(error.messages)}")
            else:
                written.take(mine, report)
                report.unchanged_users += not mine.anything()
            if on_user:
                on_user(1)
        written.record(journal, appended)


def _count_user(plan: UserPlan, report: ImportReport) -> None:
    """Dry run: what would be created for a user who is not here yet (existing ones are compared on --execute)."""
    if User.objects.filter(external_id=plan.external_id).exists():
        report.unchanged_users += 1
        return
    report.created.update({"accounts.user": 1, "onboarding.onboardingsession": 1})
    report.created["onboarding.apikey"] += len(plan.api_keys)
    report.created["onboarding.websiteanalysis"] += len(plan.analyses)
    report.created["onboarding.researchpreferences"] += plan.preferences is not None
    report.created["onboarding.personadata"] += plan.persona is not None


def _username(external_id: str, attempt: int) -> str:
    """The id itself; when it is too long or its key is taken (ids differing only in case), a stable variant."""
    if attempt == 0 and len(external_id) <= STORED_USERNAME_MAX_LENGTH:
        return external_id
    digest = hashlib.sha256(external_id.encode()).hexdigest()[:10]
    return f"{external_id[: STORED_USERNAME_MAX_LENGTH - 13]} ({digest})"


def _user(external_id: str, written: _Written) -> User:
    existing = User.objects.filter(external_id=external_id).first()
    if existing is not None:
        return existing
    try:
        user, created = accounts_services.ensure_user(external_id=external_id, username=_username(external_id, 0))
    except ValidationError:
        user, created = accounts_services.ensure_user(external_id=external_id, username=_username(external_id, 1))
    if created:
        written.add(user)
    return user


def _import_user(plan: UserPlan, written: _Written) -> None:
    user = _user(plan.external_id, written)
    values = {"current_step": plan.current_step, "completed_at": plan.completed_at}
    session, created = OnboardingSession.objects.get_or_create(user=user, defaults=values)
    if created:
        written.add(session)
    else:
        _update(session, values, written)
    _import_keys(session, plan, written)
    _import_analyses(session, plan, written)
    if plan.preferences is not None:
        _upsert_one(ResearchPreferences, session, {f: plan.preferences[f] for f in PREFERENCE_FIELDS}, written)
    if plan.persona is not None:
        _upsert_one(PersonaData, session, {f: plan.persona[f] for f in PERSONA_FIELDS}, written)


def _update(instance, values: dict, written: _Written) -> None:
    """Write only the fields whose value differs (and so nothing at all on a re-import), journaling them."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if not changed:
        return
    fields = [*changed, "updated_at"]
    old = {name: getattr(instance, name) for name in fields}
    for name in changed:
        setattr(instance, name, values[name])
    instance.save(update_fields=fields)
    new = {name: getattr(instance, name) for name in fields}
    written.changes.append(Change(model=type(instance), pk=instance.pk, before=old, after=new))


def _upsert_one(model, session: OnboardingSession, values: dict, written: _Written) -> None:
    instance, created = model.objects.get_or_create(session=session, defaults=values)
    if created:
        written.add(instance)
    else:
        _update(instance, values, written)


def _import_keys(session: OnboardingSession, plan: UserPlan, written: _Written) -> None:
    for provider, plaintext in plan.api_keys.items():
        key, created = ApiKey.objects.get_or_create(
            session=session, provider=provider, defaults={"secret": crypto.encrypt(plaintext)}
        )
        if created:
            written.add(key)
            continue
        try:
            same = key.reveal() == plaintext
        except crypto.InvalidToken:
            same = False
        if not same:
            _update(key, {"secret": crypto.encrypt(plaintext)}, written)


def _import_analyses(session: OnboardingSession, plan: UserPlan, written: _Written) -> None:
    for key, analysis in plan.analyses.items():
        values = {"url": analysis.url, "status": analysis.status, **analysis.fields}
        row, created = WebsiteAnalysis.objects.get_or_create(
            session=session, url_key=key, merged_into=None, defaults=values
        )
        if created:
            written.add(row)
        else:
            _update(row, values, written)


def _import_quarantine(plan: ImportPlan, execute: bool, report: ImportReport, journal) -> None:
    known = {
        (source, str(payload.get("legacy_id")) if isinstance(payload, dict) else None)
        for source, payload in Quarantine.objects.filter(source__in=SOURCE.values()).values_list("source", "payload")
    }
    created = []
    for record in plan.quarantine:
        identity = (record.source, str(record.payload["legacy_id"]))
        if identity in known:
            report.quarantine_known += 1
            continue
        known.add(identity)
        report.quarantined[f"{record.source}|{record.reason}"] += 1
        if execute:
            row, new = integrity_services.quarantine(source=record.source, reason=record.reason, payload=record.payload)
            if new:
                created.append(row.pk)
    integrity_services.record(
        # A record staff reviewed since gets a resolved_at later than the import: undo then refuses.
        integrity_services.created_rows(
            journal=journal, label=LABEL, model=Quarantine, pks=created, changed_by="resolved_at"
        )
    )
