from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from archives import services
from archives.forms import AnswerForm, PrayerForm
from archives.models import Activity, Prayer

WALL_PAGE_SIZE = 20
ACTIVITY_PAGE_SIZE = 50


def _get_prayer(archive_id) -> Prayer:
    """Any signed-in user may see any request, archived ones included, by its URL."""
    return get_object_or_404(Prayer.objects.select_related("author"), archive_id=archive_id)


def _back(request, prayer: Prayer):
    """To the POSTed `next` when it is a URL on this site (the wall's buttons), else to the prayer's page."""
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return HttpResponseRedirect(next_url)
    return redirect("archives:prayer", archive_id=prayer.archive_id)


def _run(request, prayer: Prayer, action, done: str, **kwargs):
    """Call one service on the prayer; a ValidationError becomes an error message, PermissionDenied a 403."""
    try:
        action(acting_user=request.user, prayer=prayer, **kwargs)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, done)
    return _back(request, prayer)


@require_http_methods(["GET", "POST"])
def wall(request):
    form = PrayerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            prayer = services.submit_prayer(acting_user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Your request is on the prayer wall.")
            return redirect("archives:prayer", archive_id=prayer.archive_id)
    archived = request.method == "GET" and request.GET.get("archived") == "mine"
    prayers = Prayer.objects.archived_by(request.user) if archived else Prayer.objects.on_the_wall()
    page = Paginator(prayers, WALL_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "archives/wall.html", {"form": form, "page": page, "archived": archived})


@require_GET
def prayer_detail(request, archive_id):
    prayer = _get_prayer(archive_id)
    activities = prayer.activities.select_related("actor").order_by("-at", "-pk")
    if not request.user.is_staff:
        activities = activities.exclude(kind=Activity.Kind.FLAGGED)  # who flagged a request is for staff only
    context = {
        "prayer": prayer,
        "is_author": prayer.author_id == request.user.pk,
        "prayed_count": prayer.activities.filter(kind=Activity.Kind.PRAYED).count(),
        "page": Paginator(activities, ACTIVITY_PAGE_SIZE).get_page(request.GET.get("page")),
        "answer_form": AnswerForm(),
    }
    return render(request, "archives/prayer.html", context)


@require_POST
def pray(request, archive_id):
    prayer = _get_prayer(archive_id)
    return _run(request, prayer, services.mark_prayed, "Thank you for praying.")


@require_POST
def answer(request, archive_id):
    prayer = _get_prayer(archive_id)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("testimony", []):
            messages.error(request, f"Testimony: {error}")
        return _back(request, prayer)
    return _run(
        request,
        prayer,
        services.mark_answered,
        "Marked as answered. Thank you for sharing it.",
        testimony=form.cleaned_data["testimony"],
    )


@require_POST
def archive(request, archive_id):
    prayer = _get_prayer(archive_id)
    return _run(request, prayer, services.archive_prayer, "Request archived: it is no longer on the wall.")


@require_POST
def restore(request, archive_id):
    prayer = _get_prayer(archive_id)
    return _run(request, prayer, services.restore_prayer, "Request restored: it is back on the wall.")


@require_POST
def flag(request, archive_id):
    prayer = _get_prayer(archive_id)
    return _run(request, prayer, services.flag_prayer, "Thank you. Staff will review this request.")
