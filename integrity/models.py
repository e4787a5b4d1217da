from django.conf import settings
from django.db import models


class Quarantine(models.Model):
    """A record from outside (a legacy file line, a row) that could not be attached, kept with the reason."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"
        DISCARDED = "discarded", "Discarded"

    source = models.CharField(max_length=200, help_text="Where it came from, e.g. thywill:activity/2025_06.txt:14.")
    reason = models.CharField(max_length=100, help_text="Why it was not imported, e.g. placeholder_author.")
    payload = models.JSONField(help_text="The record as it was read.")
    # sha256 of source + reason + payload: importing the same input twice quarantines it once.
    fingerprint = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(max_length=20, choices=Status, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name_plural = "quarantine"
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The admin's review queue: open records by reason.
            models.Index(fields=["status", "reason"], name="quarantine_status_reason"),
        ]

    def __str__(self):
        return f"{self.reason} from {self.source}"


class DoctorRun(models.Model):
    """One run of `manage.py doctor`: what each check found. The admin's review queue of findings."""

    created_at = models.DateTimeField(auto_now_add=True)
    problems = models.PositiveIntegerField(help_text="Findings of all checks together.")
    results = models.JSONField(help_text="Per check: name, description, count, sample, hint, fixable.")

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Doctor run #{self.pk}: {self.problems} problem(s)"


class RepairJournal(models.Model):
    """One repair (a heal run, later merges and imports): what it changed, so it can be reviewed and undone."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        APPLIED = "applied", "Applied"
        FAILED = "failed", "Failed part-way (applied batches are recorded)"
        UNDONE = "undone", "Undone"

    kind = models.CharField(max_length=30, help_text="heal, merge, import, …")
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status, default=Status.RUNNING)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    summary = models.JSONField(default=dict, blank=True, help_text="Counts per check: changed, skipped.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name_plural = "repair journal"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Repair #{self.pk} ({self.kind}, {self.get_status_display().lower()})"


class RepairChange(models.Model):
    """One row a repair changed: enough to put it back."""

    class Action(models.TextChoices):
        UPDATE = "update", "Update"
        CREATE_FILE = "create_file", "Create archive file"
        # Bulk records of an import: `after` holds {"pks": [[first, last], …]} or {"files": {name: size}}.
        CREATE_ROWS = "create_rows", "Create rows"
        CREATE_FILES = "create_files", "Create archive files"
        # A merge: rows re-pointed in bulk (`before` {"field", "from": {old owner: pk ranges}}, `after` {"to"}),
        # and rows deleted (`before` holds the whole row).
        REPOINT = "repoint", "Re-point rows"
        DELETE_ROW = "delete_row", "Delete row"
        # An import appended lines to an archive file: `before`/`after` {"size": bytes}.
        APPEND_FILE = "append_file", "Append to archive file"

    journal = models.ForeignKey(RepairJournal, on_delete=models.CASCADE, related_name="changes")
    check_name = models.CharField(max_length=100)
    model = models.CharField(max_length=100, help_text="app_label.model_name")
    object_pk = models.CharField(max_length=64, help_text="The row's pk, a file name, or a count for bulk records.")
    action = models.CharField(max_length=20, choices=Action, default=Action.UPDATE)
    before = models.JSONField(help_text="Field values before the repair (attnames).")
    after = models.JSONField(help_text="Field values after the repair (attnames).")

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.model} {self.object_pk}"

    def undo_description(self) -> str:
        """What undoing this row does, in a line (undo_repair --dry-run, the admin's undo page)."""
        match self.action:
            case self.Action.CREATE_ROWS:
                return f"delete {self.object_pk} {self.model} row(s) it created"
            case self.Action.CREATE_FILES:
                return f"delete {self.object_pk} archive file(s) it created"
            case self.Action.CREATE_FILE:
                return f"delete the archive file {self.object_pk} it wrote"
            case self.Action.REPOINT:
                owners = ", ".join(self.before["from"])
                return f"point {self.object_pk} {self.model} row(s) back from {self.after['to']} to {owners}"
            case self.Action.DELETE_ROW:
                return f"put back {self.model} {self.object_pk}, which it deleted"
            case self.Action.APPEND_FILE if self.before["size"] is None:
                return f"delete the archive file {self.object_pk}, which it created"
            case self.Action.APPEND_FILE:
                return f"cut {self.object_pk} back to the {self.before['size']} bytes it had"
            case _:
                return f"{self.model} {self.object_pk}: {self.after} → {self.before}"
