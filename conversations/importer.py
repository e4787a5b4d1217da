"""Write an import plan (conversations.legacy) into Cairn, in one transaction, idempotently.

Every legacy row dealt with is recorded in ImportedRecord (imported, merged, dropped as a retry copy,
quarantined), so a second run skips it: rows already imported are never modified again (I1).

An import that changed anything is recorded in integrity's RepairJournal (kind "import"): the rows it
created (as primary keys) and the lines it appended to the text archive (users it created join there),
so `manage.py undo_repair` takes it back. The only existing rows it changes are users already here without
a phone number, which get the subcontractor's (before/after journaled).
"""

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Max

from accounts.models import User
from accounts.services import ensure_user
from conversations.legacy import ImportPlan, Rejected
from conversations.models import ChatSession, Conversation, FieldRevision, ImportedRecord, Message
from integrity import services as integrity_services
from integrity.models import Quarantine
from integrity.registry import Change
from integrity.services import fingerprint
from lib import archive_files

SOURCE = "conversations"
BATCH = 1000
LABEL = "import_conversations"


@dataclass
class ImportReport:
    users_created: int = 0
    users_existing: int = 0
    phone_numbers_kept: int = 0  # on users already here that had none
    conversations_created: int = 0
    conversation_groups_with_duplicates: int = 0
    replaced_values: int = 0
    sessions_created: int = 0
    sessions_by_status: Counter = field(default_factory=Counter)
    messages_created: int = 0
    retry_copies_dropped: int = 0
    already_imported: int = 0
    quarantined: Counter = field(default_factory=Counter)
    rejected: list[Rejected] = field(default_factory=list)
    journal_id: int | None = None

    @property
    def changed_anything(self) -> bool:
        return bool(
            self.users_created
            or self.phone_numbers_kept
            or self.conversations_created
            or self.sessions_created
            or self.messages_created
            or self.retry_copies_dropped
            or sum(self.quarantined.values())
        )

    def as_dict(self) -> dict:
        return {
            "users_created": self.users_created,
            "users_existing": self.users_existing,
            "phone_numbers_kept": self.phone_numbers_kept,
            "conversations_created": self.conversations_created,
            "conversation_groups_with_duplicates": self.conversation_groups_with_duplicates,
            "replaced_values": self.replaced_values,
            "sessions_created": self.sessions_created,
            "sessions_by_status": dict(sorted(self.sessions_by_status.items())),
            "messages_created": self.messages_created,
            "retry_copies_dropped": self.retry_copies_dropped,
            "already_imported": self.already_imported,
            "quarantined": dict(sorted(self.quarantined.items())),
        }


def import_plan(*, plan: ImportPlan, execute: bool, description: str = "") -> ImportReport:
    """Apply `plan`; without `execute`, only count what would happen (nothing is written)."""
    report = ImportReport()
    with (
        integrity_services.import_journal(report=report, execute=execute, description=description) as journal,
        transaction.atomic(),
        archive_files.recording_appends() as appended,
    ):
        writer = _Writer(plan, execute, report, journal)
        writer.run()
        writer.journal_rows += integrity_services.appended_files(journal=journal, label=LABEL, appends=appended)
        integrity_services.record(writer.journal_rows)
        if not execute:
            transaction.set_rollback(True)  # belt and braces: a dry run never writes
    return report


class _Writer:
    def __init__(self, plan: ImportPlan, execute: bool, report: ImportReport, journal=None):
        self.plan, self.execute, self.report, self.journal = plan, execute, report, journal
        self.journal_rows = []  # in creation order: undo deletes newest first, children before parents
        self.done: set[tuple[str, str]] = set(ImportedRecord.objects.values_list("table", "legacy_id"))
        self.records: list[ImportedRecord] = []
        self.quarantine: dict[str, Quarantine] = {}
        self.users: dict[str, User | None] = {}  # external id → user (None: rejected)

    def run(self) -> None:
        self._users()
        self._rejected()
        self._conversations()
        self._sessions()
        self._messages()
        if self.execute:
            self._store_bookkeeping()

    def _created(self, model, pks, changed_by: str | None = None) -> None:
        self.journal_rows += integrity_services.created_rows(
            journal=self.journal, label=LABEL, model=model, pks=pks, changed_by=changed_by
        )

    def _store_bookkeeping(self) -> None:
        """ImportedRecord and Quarantine rows, journaled as the rows numbered after the last one before.

        ignore_conflicts: rows a concurrent import stored meanwhile are skipped here (and may be journaled
        here too), as archives' import does with its users."""
        mark = ImportedRecord.objects.aggregate(last=Max("pk"))["last"] or 0
        ImportedRecord.objects.bulk_create(self.records, batch_size=BATCH, ignore_conflicts=True)
        self._created(ImportedRecord, ImportedRecord.objects.filter(pk__gt=mark).values_list("pk", flat=True))
        mark = Quarantine.objects.aggregate(last=Max("pk"))["last"] or 0
        Quarantine.objects.bulk_create(list(self.quarantine.values()), batch_size=BATCH, ignore_conflicts=True)
        self._created(
            Quarantine,
            Quarantine.objects.filter(pk__gt=mark, source=SOURCE).values_list("pk", flat=True),
            changed_by="resolved_at",  # reviewed by staff since the import: undo refuses
        )

    # --- bookkeeping ---

    def _is_done(self, table: str, legacy_id) -> bool:
        return (table, str(legacy_id)) in self.done

    def _record(self, table: str, legacy_id, outcome: str, object_pk="") -> None:
        self.done.add((table, str(legacy_id)))
        self.records.append(
            ImportedRecord(table=table, legacy_id=str(legacy_id), outcome=outcome, object_pk=str(object_pk or ""))
        )

    def _quarantine(self, reason: str, payload: dict) -> None:
        payload = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
        key = fingerprint(source=SOURCE, reason=reason, payload=payload)
        if key in self.quarantine:
            return  # (one already stored is skipped by bulk_create(ignore_conflicts=True) on the fingerprint)
        self.quarantine[key] = Quarantine(source=SOURCE, reason=reason, payload=payload, fingerprint=key)
        self.report.quarantined[reason] += 1

    def _reject(self, rejected: Rejected) -> None:
        """Name the record in the report on every run; quarantine it once."""
        self.report.rejected.append(rejected)
        if self._is_done(rejected.table, rejected.legacy_id):
            return
        payload = {
            "table": rejected.table,
            "legacy_id": rejected.legacy_id,
            "why": rejected.why,
            "row": rejected.payload,
        }
        self._quarantine(rejected.reason, payload)
        self._record(rejected.table, rejected.legacy_id, "quarantined")

    # --- U ---

    def _users(self) -> None:
        existing = {
            u.external_id: u for u in User.objects.filter(external_id__in=[p.external_id for p in self.plan.users])
        }
        created_users, phones = [], []
        for planned in self.plan.users:
            user = existing.get(planned.external_id)
            if user is not None:  # U3: reuse, never rename
                self.report.users_existing += 1
                self.users[planned.external_id] = user
                if planned.phone_number and not user.phone_number:
                    phones.append((user, planned.phone_number))
                continue
            if not self.execute:
                self.report.users_created += 1
                self.users[planned.external_id] = User(external_id=planned.external_id)  # stands in, unsaved
                continue
            try:
                # U1/U2: the name exactly as stored (whitespace included)
                user, created = ensure_user(
                    external_id=planned.external_id,
                    username=planned.username,
                    username_as_given=True,
                    phone_number=planned.phone_number,  # U1: "keep it"
                )
            except ValidationError as error:
                self.users[planned.external_id] = None
                table = "subcontractors" if planned.source == "subcontractor" else "conversation_owners"
                legacy_id = planned.external_id.removeprefix("wa:")
                self._reject(
                    Rejected(
                        table, legacy_id, "username_taken", " ".join(error.messages), {"username": planned.username}
                    )
                )
                continue
            self.users[planned.external_id] = user
            self.report.users_created += created
            if created:
                created_users.append(user.pk)
        self._created(User, created_users)
        self._keep_phone_numbers(phones)

    def _keep_phone_numbers(self, phones: list[tuple[User, str]]) -> None:
        """U1: a user already here without a phone number gets the subcontractor's (journaled, so undoable)."""
        self.report.phone_numbers_kept += len(phones)
        if not self.execute:
            return
        changes = []
        for user, phone in phones:
            if User.objects.filter(pk=user.pk, phone_number="").update(phone_number=phone):
                changes.append(
                    Change(model=User, pk=user.pk, before={"phone_number": ""}, after={"phone_number": phone})
                )
        self.journal_rows += integrity_services.updated_rows(journal=self.journal, label=LABEL, changes=changes)

    def _rejected(self) -> None:
        for rejected in self.plan.rejected:
            self._reject(rejected)

    def _user_or_reject(self, external_id: str, table: str, legacy_id, payload: dict) -> User | None:
        user = self.users.get(external_id)
        if user is None:
            self._reject(Rejected(table, str(legacy_id), "user_not_imported", f"{external_id} was rejected", payload))
        return user

    # --- C ---

    def _conversations(self) -> None:
        new = []
        owners = [u for u in self.users.values() if u is not None and u.pk]
        present = set(
            Conversation.objects.filter(owner__in=owners).values_list("owner__external_id", "session_id").iterator()
        )
        for planned in self.plan.conversations:
            ids = [str(i) for i in planned.legacy_row_ids]
            if all(self._is_done("conversations", i) for i in ids):
                self.report.already_imported += len(ids)
                continue
            owner = self._user_or_reject(planned.owner, "conversations", ids[0], {"session_id": planned.session_id})
            if owner is None:
                continue
            if (planned.owner, planned.session_id) in present:
                # Cairn already has it (imported before, or made here since): it owns the row now.
                for legacy_id in ids:
                    if not self._is_done("conversations", legacy_id):
                        why = "the conversation already exists in Cairn; this legacy row was not applied"
                        self._reject(Rejected("conversations", legacy_id, "conversation_already_present", why, {}))
                continue
            new.append((planned, owner))
            self.report.conversations_created += 1
            self.report.conversation_groups_with_duplicates += len(ids) > 1
            self.report.replaced_values += len(planned.replaced)
        if not self.execute:
            return
        rows = Conversation.objects.bulk_create(
            [
                Conversation(
                    owner=owner,
                    session_id=p.session_id,
                    transcript=p.transcript,
                    analysis=p.analysis,
                    audio_filename=(p.audio_filename or "")[:255],
                    created_at=p.created_at,
                    updated_at=p.updated_at,
                )
                for p, owner in new
            ],
            batch_size=BATCH,
        )
        revisions = []
        for (planned, owner), conversation in zip(new, rows, strict=True):
            for legacy_id in planned.legacy_row_ids:
                self._record("conversations", legacy_id, "imported", conversation.pk)
            for value in planned.replaced:  # C5: never silently lost
                payload = {
                    "owner": owner.external_id,
                    "session_id": planned.session_id,
                    "field": value.field,
                    "value": value.value,
                    "legacy_row_id": value.legacy_row_id,
                    "legacy_updated_at": value.legacy_updated_at,
                    "kept_legacy_row_id": value.kept_legacy_row_id,
                    "conversation_id": conversation.pk,
                }
                self._quarantine("replaced_value", payload)
                revisions.append(
                    FieldRevision(
                        conversation=conversation,
                        field=value.field,
                        value=value.value,
                        replaced_at=datetime.fromisoformat(value.legacy_updated_at).astimezone(UTC),
                        replaced_by=FieldRevision.Source.IMPORT,
                    )
                )
        self._created(Conversation, [row.pk for row in rows], changed_by="updated_at")
        revisions = FieldRevision.objects.bulk_create(revisions, batch_size=BATCH)
        self._created(FieldRevision, [row.pk for row in revisions])

    # --- S ---

    def _sessions(self) -> None:
        todo = [s for s in self.plan.sessions if not self._is_done("conversation_sessions", s.legacy_id)]
        self.report.already_imported += len(self.plan.sessions) - len(todo)
        users = {s.user: self._user_or_reject(s.user, "conversation_sessions", s.legacy_id, {}) for s in todo}
        todo = [s for s in todo if users[s.user] is not None]
        # At most one active session per user, counting one Cairn already has (made here since, or by an
        # import with another --now): an imported session that would be a second one is ended instead.
        active_now = set(
            ChatSession.objects.filter(
                status=ChatSession.Status.ACTIVE, user__in=[u for u in users.values() if u and u.pk]
            ).values_list("user__external_id", flat=True)
        )
        for planned in sorted(todo, key=lambda s: s.last_activity_at, reverse=True):
            if planned.status == "active":
                if planned.user in active_now:
                    planned.status, planned.end_reason = "ended", "superseded"
                    planned.ended_at = planned.last_activity_at
                active_now.add(planned.user)
        # Survivors before the sessions merged into them (merged_into needs their primary keys).
        todo.sort(key=lambda s: (s.merged_into is not None, s.user, s.started_at))
        self.sessions = dict(
            ChatSession.objects.filter(legacy_id__in=[s.legacy_id for s in self.plan.sessions]).values_list(
                "legacy_id", "pk"
            )
        )
        for planned in todo:
            self.report.sessions_created += 1
            self.report.sessions_by_status[planned.status] += 1
        if not self.execute:
            return
        for batch in (
            [s for s in todo if s.merged_into is None],
            [s for s in todo if s.merged_into is not None],
        ):
            created = ChatSession.objects.bulk_create(
                [
                    ChatSession(
                        user=users[s.user],
                        status=s.status,
                        started_at=s.started_at,
                        last_activity_at=s.last_activity_at,
                        ended_at=s.ended_at,
                        end_reason=s.end_reason,
                        merged_into_id=self.sessions.get(s.merged_into) if s.merged_into else None,
                        legacy_id=s.legacy_id,
                    )
                    for s in batch
                ],
                batch_size=BATCH,
            )
            for planned, session in zip(batch, created, strict=True):
                self.sessions[planned.legacy_id] = session.pk
                self._record("conversation_sessions", planned.legacy_id, planned.status, session.pk)
            self._created(ChatSession, [session.pk for session in created], changed_by="last_activity_at")

    def _messages(self) -> None:
        todo = [m for m in self.plan.messages if not self._is_done("messages", m.legacy_id)]
        self.report.already_imported += len(self.plan.messages) - len(todo)
        for legacy_id, kept in self.plan.dropped_retries:
            if not self._is_done("messages", legacy_id):
                self.report.retry_copies_dropped += 1
                self._record("messages", legacy_id, "dropped_retry", kept)
        importable = []
        for m in todo:
            if self._user_or_reject(m.user, "messages", m.legacy_id, {"body": m.body}) is not None:
                importable.append(m)
        todo = importable
        # A provider id Cairn already stored for this user (a live message since): quarantine, never a duplicate.
        taken = set(
            Message.objects.filter(
                external_id__in=[m.external_id for m in todo if m.external_id],
                user__external_id__in={m.user for m in todo},
            ).values_list("user__external_id", "external_id")
        )
        fresh = []
        for m in todo:
            if m.external_id and (m.user, m.external_id) in taken:
                why = "Cairn already has a message with this provider id for this user"
                self._reject(Rejected("messages", m.legacy_id, "duplicate_provider_id", why, {"sid": m.external_id}))
            else:
                fresh.append(m)
        self.report.messages_created += len(fresh)
        if not self.execute:
            return
        created = Message.objects.bulk_create(
            [
                Message(
                    session_id=self.sessions[m.session],
                    user=self.users[m.user],
                    external_id=m.external_id,
                    direction=m.direction,
                    body=m.body,
                    tool_outputs=m.tool_outputs,
                    created_at=m.created_at,
                    legacy_id=m.legacy_id,
                )
                for m in fresh
            ],
            batch_size=BATCH,
        )
        self._created(Message, [message.pk for message in created])
        for m in fresh:
            self._record("messages", m.legacy_id, "imported")
