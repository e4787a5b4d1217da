"""Admin actions any app can add to its ModelAdmin: "Merge selected" (with a plan page first) and "Undo".

Both work like Django's `delete_selected`: the action shows an intermediate page that re-posts the selection,
and only a second, confirming POST changes anything. The writes are `integrity.merge.execute_merge` and
`integrity.services.undo_repair`; this module only asks, shows and reports.
"""

import hashlib

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from accounts.identity import resolve_user
from integrity import merge, services


def _plan_token(plan: merge.MergePlan) -> str:
    return hashlib.sha256(plan.fingerprint().encode()).hexdigest()


def _journal_link(journal) -> str:
    url = reverse("admin:integrity_repairjournal_change", args=[journal.pk])
    return format_html('<a href="{}">repair #{}</a>', url, journal.pk)


@admin.action(description="Merge selected %(verbose_name_plural)s into one")
def merge_selected(modeladmin, request, queryset):
    """Pick the survivor, see the plan, confirm; the others become tombstones pointing at it."""
    opts = modeladmin.model._meta
    # The permissions themselves, not the ModelAdmin's: an admin may hide its delete button (read-only
    # records) and still let staff with these permissions merge.
    needed = [f"{opts.app_label}.{action}_{opts.model_name}" for action in ("merge", "change", "delete")]
    if not request.user.has_perms(needed):
        raise PermissionDenied
    records = list(queryset.order_by("pk"))
    if len(records) < 2:
        modeladmin.message_user(request, "Select at least two records to merge.", messages.WARNING)
        return None
    by_pk = {str(record.pk): record for record in records}
    survivor = by_pk.get(request.POST.get("survivor"), records[0])
    losers = [record for record in records if record is not survivor]
    take = {key[5:]: value for key, value in request.POST.items() if key.startswith("take_") and value in by_pk}
    plan = merge.plan_merge(survivor=survivor, losers=losers, take=take)

    if request.POST.get("confirm") == "yes" and plan.ok:
        if request.POST.get("plan") != _plan_token(plan):
            modeladmin.message_user(
                request, "The data changed since the plan was shown: here is the new plan.", messages.WARNING
            )
        else:
            try:
                journal = merge.execute_merge(plan=plan, acting_user=request.user)
            except ValidationError as error:
                modeladmin.message_user(request, " ".join(error.messages), messages.ERROR)
                return None
            modeladmin.log_change(request, survivor, f"Merged {', '.join(map(str, losers))} into it ({journal}).")
            for loser in losers:
                modeladmin.log_change(request, loser, f"Merged into {survivor} ({journal}).")
            modeladmin.message_user(
                request,
                format_html(
                    "Merged {} into {}: {} row(s) moved. See {} to review or undo it.",
                    ", ".join(map(str, losers)),
                    survivor,
                    plan.rows,
                    _journal_link(journal),
                ),
                messages.SUCCESS,
            )
            return None

    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"Merge {opts.verbose_name_plural}",
        "opts": opts,
        "records": records,
        "survivor": survivor,
        "losers": losers,
        "plan": plan,
        "plan_token": _plan_token(plan),
        "relations": [r for r in plan.relations if r.move or r.conflicts],
        "differences": [
            (name, [(pk, value, str(plan.take.get(name, survivor.pk)) == str(pk)) for pk, value in values])
            for name, values in plan.differences.items()
        ],
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "selected": [str(record.pk) for record in records],
        "media": modeladmin.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/integrity/merge_selected.html", context)


@admin.action(description="Undo the selected repair")
def undo_selected(modeladmin, request, queryset):
    """Show what undoing the repair restores, then undo it on confirmation (all or nothing)."""
    if not request.user.has_perm("integrity.change_repairjournal"):
        raise PermissionDenied
    journals = list(queryset[:2])
    if len(journals) != 1:
        modeladmin.message_user(request, "Select exactly one repair to undo.", messages.WARNING)
        return None
    journal = journals[0]
    if request.POST.get("confirm") == "yes":
        try:
            services.undo_repair(journal_id=journal.pk, acting_user=request.user)
        except ValidationError as error:
            modeladmin.message_user(request, " ".join(error.messages), messages.ERROR)
            return None
        modeladmin.log_change(request, journal, "Undone.")
        modeladmin.message_user(request, format_html("Undid {}.", _journal_link(journal)), messages.SUCCESS)
        return None
    changes = list(journal.changes.order_by("-pk")[:200])
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"Undo {journal}",
        "opts": modeladmin.model._meta,
        "journal": journal,
        "lines": [change.undo_description() for change in changes],
        "total": journal.changes.count(),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "selected": [str(journal.pk)],
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/integrity/undo_selected.html", context)


def _review(modeladmin, request, queryset, status, verb):
    pks = list(queryset.filter(status="open").values_list("pk", flat=True))
    if not pks:
        modeladmin.message_user(request, "None of the selected records is open.", messages.WARNING)
        return
    journal = services.review_quarantine(pks=pks, status=status, acting_user=request.user)
    for record in queryset.model.objects.filter(pk__in=pks):
        modeladmin.log_change(request, record, f"{verb.capitalize()} ({journal}).")
    changed = journal.summary.get("quarantine.review", {}).get("changed", 0)
    modeladmin.message_user(
        request,
        format_html("{} {} record(s); {} can reopen them.", verb.capitalize(), changed, _journal_link(journal)),
        messages.SUCCESS,
    )


@admin.action(description="Mark the selected records reviewed", permissions=["change"])
def mark_reviewed(modeladmin, request, queryset):
    _review(modeladmin, request, queryset, "resolved", "marked reviewed")


@admin.action(description="Discard the selected records (kept, and undoable)", permissions=["change"])
def discard(modeladmin, request, queryset):
    _review(modeladmin, request, queryset, "discarded", "discarded")


@admin.action(description="Attach the selected record to a user…", permissions=["change"])
def attach_to_user(modeladmin, request, queryset):
    """Name the user a quarantined record belongs to; the record's app attaches it (journaled, undoable)."""
    records = list(queryset[:2])
    if len(records) != 1:
        modeladmin.message_user(request, "Select exactly one record to attach.", messages.WARNING)
        return None
    record = records[0]
    error = None
    if request.POST.get("confirm") == "yes":
        name = request.POST.get("user", "").strip()
        user = resolve_user(name)
        if user is None:
            error = f"No user is called or has the id {name!r}."
        else:
            try:
                journal = services.attach_quarantined(pk=record.pk, user=user, acting_user=request.user)
            except ValidationError as problem:
                error = " ".join(problem.messages)
            else:
                modeladmin.log_change(request, record, f"Attached to {user} ({journal}).")
                modeladmin.message_user(
                    request,
                    format_html("Attached #{} to {}; {} can take it back.", record.pk, user, _journal_link(journal)),
                    messages.SUCCESS,
                )
                return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"Attach {record} to a user",
        "opts": modeladmin.model._meta,
        "record": record,
        "error": error,
        "value": request.POST.get("user", ""),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "selected": [str(record.pk)],
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/integrity/attach_to_user.html", context)
