from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.forms import InviteForm, SignUpForm
from accounts.models import Invite, User

INVITE_TREE_MAX_DEPTH = 6


def _get_invite_for_user(request, pk) -> Invite:
    return get_object_or_404(Invite, pk=pk, created_by=request.user)


@login_not_required
@require_http_methods(["GET", "POST"])
def join(request, token):
    try:
        invite = services.find_invite(token)
    except services.InviteUnusable as unusable:
        return render(request, "accounts/join_unusable.html", {"reason": unusable.reason}, status=410)

    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.sign_up(
                token=token, username=form.cleaned_data["username"], password=form.cleaned_data["password1"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        except services.InviteUnusable as unusable:
            return render(request, "accounts/join_unusable.html", {"reason": unusable.reason}, status=410)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome to Cairn, {user.username}.")
            return redirect("home")
    return render(request, "accounts/join.html", {"form": form, "invite": invite})


@require_http_methods(["GET", "POST"])
def invites(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        invite, token = services.create_invite(
            acting_user=request.user,
            expires_in=form.cleaned_data["expires_in_days"],
            max_uses=form.cleaned_data["max_uses"],
        )
        link = request.build_absolute_uri(reverse("accounts:join", args=[token]))
        messages.success(request, "Invite created. Copy the link now: it is shown only once.")
        return render(request, "accounts/invite_created.html", {"invite": invite, "link": link})
    page = Paginator(Invite.objects.filter(created_by=request.user), 20).get_page(request.GET.get("page"))
    return render(request, "accounts/invites.html", {"form": form, "page": page})


@require_POST
def revoke_invite(request, pk):
    invite = _get_invite_for_user(request, pk)
    services.revoke_invite(acting_user=request.user, invite=invite)
    messages.success(request, "Invite revoked: its link no longer works.")
    return redirect("accounts:invites")


def _invite_tree(root: User) -> list[dict]:
    """The people `root` invited, and whom they invited, one query per level."""
    nodes: dict[int, dict] = {}
    top: list[dict] = []
    level = [root.pk]
    for _ in range(INVITE_TREE_MAX_DEPTH):
        rows = User.objects.filter(invited_by__in=level).order_by("date_joined", "pk")
        rows = list(rows.only("pk", "username", "invited_by_id", "date_joined"))
        if not rows:
            break
        for user in rows:
            node = {"user": user, "children": []}
            nodes[user.pk] = node
            (top if user.invited_by_id == root.pk else nodes[user.invited_by_id]["children"]).append(node)
        level = [user.pk for user in rows]
    return top


def profile(request, pk):
    person = get_object_or_404(User.objects.select_related("invited_by"), pk=pk, is_active=True)
    return render(request, "accounts/profile.html", {"person": person, "tree": _invite_tree(person)})
