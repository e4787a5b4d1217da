"""Write an ALwrity import plan (onboarding.alwrity) into Cairn: idempotent, one transaction per user.

Rows are matched on their natural keys (User.external_id, the session's user, (session, provider),
(session, url_key), the session's OneToOne children) and written only where a value differs, so a second
import of the same inputs creates, changes and deletes nothing. Quarantine records are matched on
(source, payload.legacy_id). An import that changed anything is recorded in integrity's RepairJournal
(kind "import") with its counts, as archives' import does.
"""

import hashlib
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import services as accounts_services
from accounts.models import User
from integrity import services as integrity_services
from integrity.models import Quarantine, RepairJournal
from onboarding import crypto
from onboarding.alwrity import SOURCE, ImportPlan, UserPlan
from onboarding.models import ApiKey, OnboardingSession, PersonaData, ResearchPreferences, WebsiteAnalysis

USERNAME_MAX_LENGTH = 150
PERSONA_FIELDS = ["core_persona", "platform_personas", "quality_metrics", "selected_platforms"]
PREFERENCE_FIELDS = ["research_depth", "content_types", "auto_research", "factual_content"]


@dataclass
class ImportReport:
    created: Counter = field(default_factory=Counter)  # model label -> rows created
    updated: Counter = field(default_factory=Counter)  # model label -> rows changed
    unchanged_users: int = 0
    quarantined: Counter = field(default_factory=Counter)  # "source|reason" -> new records
    quarantine_known: int = 0
    problems: list[str] = field(default_factory=list)

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


def import_plan(*, plan: ImportPlan, execute: bool, description: str = "", on_user=None) -> ImportReport:
    report = ImportReport()
    for user_plan in plan.users.values():
        try:
            if execute:
                with transaction.atomic():
                    _import_user(user_plan, report)
            else:
                _count_user(user_plan, report)
        except ValidationError as error:
            report.problems.append(f"{user_plan.external_id}: {' '.join(error.messages)}")
        if on_user:
            on_user(1)
    with transaction.atomic():
        _import_quarantine(plan, execute, report)
    if execute and report.changed_anything:
        RepairJournal.objects.create(
            kind="import",
            description=description,
            status=RepairJournal.Status.APPLIED,
            summary=report.as_dict(),
            finished_at=timezone.now(),
        )
    return report


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
    if attempt == 0 and len(external_id) <= USERNAME_MAX_LENGTH:
        return external_id
    digest = hashlib.sha256(external_id.encode()).hexdigest()[:10]
    return f"{external_id[: USERNAME_MAX_LENGTH - 13]} ({digest})"


def _user(external_id: str, report: ImportReport) -> User:
    existing = User.objects.filter(external_id=external_id).first()
    if existing is not None:
        return existing
    try:
        user, created = accounts_services.ensure_user(external_id=external_id, username=_username(external_id, 0))
    except ValidationError:
        user, created = accounts_services.ensure_user(external_id=external_id, username=_username(external_id, 1))
    report.created["accounts.user"] += created
    return user


def _import_user(plan: UserPlan, report: ImportReport) -> None:
    before = sum(report.created.values()) + sum(report.updated.values())
    user = _user(plan.external_id, report)
    session, created = OnboardingSession.objects.get_or_create(
        user=user, defaults={"current_step": plan.current_step, "completed_at": plan.completed_at}
    )
    if created:
        report.created["onboarding.onboardingsession"] += 1
    else:
        _update(session, {"current_step": plan.current_step, "completed_at": plan.completed_at}, report)
    _import_keys(session, plan, report)
    _import_analyses(session, plan, report)
    if plan.preferences is not None:
        values = {f: plan.preferences[f] for f in PREFERENCE_FIELDS}
        _upsert_one(ResearchPreferences, session, values, report)
    if plan.persona is not None:
        _upsert_one(PersonaData, session, {f: plan.persona[f] for f in PERSONA_FIELDS}, report)
    if sum(report.created.values()) + sum(report.updated.values()) == before:
        report.unchanged_users += 1


def _update(instance, values: dict, report: ImportReport) -> None:
    """Write only the fields whose value differs (and so nothing at all on a re-import)."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if changed:
        for name in changed:
            setattr(instance, name, values[name])
        instance.save(update_fields=[*changed, "updated_at"])
        report.updated[instance._meta.label_lower] += 1


def _upsert_one(model, session: OnboardingSession, values: dict, report: ImportReport) -> None:
    instance, created = model.objects.get_or_create(session=session, defaults=values)
    if created:
        report.created[model._meta.label_lower] += 1
    else:
        _update(instance, values, report)


def _import_keys(session: OnboardingSession, plan: UserPlan, report: ImportReport) -> None:
    for provider, plaintext in plan.api_keys.items():
        key, created = ApiKey.objects.get_or_create(
            session=session, provider=provider, defaults={"secret": crypto.encrypt(plaintext)}
        )
        if created:
            report.created["onboarding.apikey"] += 1
            continue
        try:
            same = key.reveal() == plaintext
        except crypto.InvalidToken:
            same = False
        if not same:
            _update(key, {"secret": crypto.encrypt(plaintext)}, report)


def _import_analyses(session: OnboardingSession, plan: UserPlan, report: ImportReport) -> None:
    for key, analysis in plan.analyses.items():
        values = {"url": analysis.url, "status": analysis.status, **analysis.fields}
        row, created = WebsiteAnalysis.objects.get_or_create(
            session=session, url_key=key, merged_into=None, defaults=values
        )
        if created:
            report.created["onboarding.websiteanalysis"] += 1
        else:
            _update(row, values, report)


def _import_quarantine(plan: ImportPlan, execute: bool, report: ImportReport) -> None:
    known = {
        (source, str(payload.get("legacy_id")) if isinstance(payload, dict) else None)
        for source, payload in Quarantine.objects.filter(source__in=SOURCE.values()).values_list("source", "payload")
    }
    for record in plan.quarantine:
        identity = (record.source, str(record.payload["legacy_id"]))
        if identity in known:
            report.quarantine_known += 1
            continue
        known.add(identity)
        report.quarantined[f"{record.source}|{record.reason}"] += 1
        if execute:
            integrity_services.quarantine(source=record.source, reason=record.reason, payload=record.payload)
