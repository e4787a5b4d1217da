"""Defect checks and fixes for onboarding, run by `manage.py doctor` and `manage.py heal`.

Fixes only update rows: a duplicate analysis is folded into the one that stays by setting its
`merged_into` (the row and its data are kept, and `undo_repair` puts it back).
"""

from collections import defaultdict

from django.db.models import Exists, OuterRef

from accounts.models import User
from integrity import merge
from integrity.registry import SAMPLE_SIZE, Change, Finding, Plan, check
from onboarding import crypto
from onboarding.models import ApiKey, OnboardingSession, PersonaData, ResearchPreferences, WebsiteAnalysis
from onboarding.normalize import url_key

CHUNK = 2000


def _finding(ids: list) -> Finding:
    ids = sorted(ids)
    return Finding(count=len(ids), sample=ids[:SAMPLE_SIZE])


@check("onboarding.session_without_user", hint="Report only: restore the user from a backup, or ask staff.")
def sessions_without_user() -> Finding:
    """Onboarding sessions whose user does not exist."""
    return Finding.from_queryset(OnboardingSession.objects.filter(~Exists(User.objects.filter(pk=OuterRef("user_id")))))


def _live_analyses():
    rows = WebsiteAnalysis.objects.live().values_list("pk", "session_id", "url", "url_key", "status", "updated_at")
    return list(rows.order_by("pk").iterator(chunk_size=CHUNK))


def _groups() -> dict[tuple, list]:
    """Live analyses by (session, recomputed url_key)."""
    groups = defaultdict(list)
    for row in _live_analyses():
        groups[(row[1], url_key(row[2]))].append(row)
    return groups


def possibly_duplicate_analysis_pks() -> list[int]:
    """Every live analysis that shares its session and recomputed url_key with another (the admin's queue)."""
    return [row[0] for group in _groups().values() if len(group) > 1 for row in group]


def _rank(row):
    """The analysis that stays: completed before failed, then the newest, then the highest id."""
    return (row[4] == WebsiteAnalysis.Status.COMPLETED, row[5], row[0])


@check(
    "onboarding.duplicate_analysis",
    hint="Run `manage.py heal --only onboarding.duplicate_analysis` to fold each into the one that stays.",
)
def duplicate_analyses() -> Finding:
    """Live analyses of one session whose URLs have the same url_key under the current rule."""
    return _finding([row[0] for group in _groups().values() if len(group) > 1 for row in group[:-1]])


@duplicate_analyses.fix
def fold_duplicate_analyses() -> Plan:
    plan = Plan()
    for (_, key), group in _groups().items():
        if len(group) < 2:
            continue
        keep, *losers = sorted(group, key=_rank, reverse=True)
        for row in losers:
            plan.changes.append(
                Change(
                    model=WebsiteAnalysis, pk=row[0], before={"merged_into_id": None}, after={"merged_into_id": keep[0]}
                )
            )
        if keep[3] != key:
            plan.changes.append(
                Change(model=WebsiteAnalysis, pk=keep[0], before={"url_key": keep[3]}, after={"url_key": key})
            )
    return plan


@check("onboarding.stale_url_key", hint="Run `manage.py heal --only onboarding.stale_url_key` to recompute them.")
def stale_url_keys() -> Finding:
    """Live analyses whose stored url_key is not url_key(url) (and no other analysis of the session has it)."""
    return _finding(
        [row[0] for group in _groups().values() if len(group) == 1 for row in group if row[3] != url_key(row[2])]
    )


@stale_url_keys.fix
def recompute_url_keys() -> Plan:
    plan = Plan()
    for (_, key), group in _groups().items():
        if len(group) == 1 and group[0][3] != key:
            row = group[0]
            plan.changes.append(
                Change(model=WebsiteAnalysis, pk=row[0], before={"url_key": row[3]}, after={"url_key": key})
            )
    return plan


def _site(key: str) -> str:
    """A url_key without its scheme and a leading www.: http://www.x.org and https://x.org are one site."""
    rest = key.split("://", 1)[-1]
    return rest[4:] if rest.startswith("www.") else rest


def _failed_beside_completed() -> list[tuple[int, int]]:
    """(failed analysis, completed analysis of the same site in the same session)."""
    completed, failed = {}, []
    for pk, session, url, _, status, updated in _live_analyses():
        key = url_key(url)
        if status == WebsiteAnalysis.Status.COMPLETED:
            site = (session, _site(key))
            if site not in completed or completed[site][1] < updated:
                completed[site] = (pk, updated)
        else:
            failed.append((pk, (session, _site(key))))
    return [(pk, completed[site][0]) for pk, site in failed if site in completed]


@check(
    "onboarding.failed_beside_completed",
    hint="Run `manage.py heal --only onboarding.failed_beside_completed` to fold each into the completed one.",
)
def failed_beside_completed() -> Finding:
    """Failed analyses of a site (http/https, www. or not) that the same user also has a completed analysis of."""
    return _finding([failed for failed, _ in _failed_beside_completed()])


@failed_beside_completed.fix
def fold_failed_analyses() -> Plan:
    return Plan(
        changes=[
            Change(model=WebsiteAnalysis, pk=failed, before={"merged_into_id": None}, after={"merged_into_id": keep})
            for failed, keep in _failed_beside_completed()
        ]
    )


def _key_states() -> tuple[list, list]:
    """(keys no key of the ring opens, keys only an older key opens: (pk, secret))."""
    broken, old = [], []
    for pk, secret in ApiKey.objects.order_by("pk").values_list("pk", "secret").iterator(chunk_size=CHUNK):
        if crypto.is_primary(secret):
            continue
        try:
            crypto.decrypt(secret)
        except crypto.InvalidToken:
            broken.append(pk)
        else:
            old.append((pk, secret))
    return broken, old


@check(
    "onboarding.undecryptable_api_key",
    hint="Put the key that encrypted them back into CAIRN_FERNET_KEYS (after the newest); otherwise their owners "
    "must enter them again in step 1.",
)
def undecryptable_api_keys() -> Finding:
    """Stored API keys that no key in CAIRN_FERNET_KEYS can decrypt."""
    return _finding(_key_states()[0])


@check(
    "onboarding.api_key_not_primary",
    hint="Run `manage.py heal --only onboarding.api_key_not_primary` to re-encrypt them with the newest key.",
)
def api_keys_not_primary() -> Finding:
    """Stored API keys encrypted with an older key of CAIRN_FERNET_KEYS (a rotation not finished yet)."""
    return _finding([pk for pk, _ in _key_states()[1]])


@api_keys_not_primary.fix
def rotate_api_keys() -> Plan:
    return Plan(
        changes=[
            Change(model=ApiKey, pk=pk, before={"secret": secret}, after={"secret": crypto.rotate(secret)})
            for pk, secret in _key_states()[1]
        ]
    )


# --- Merges (integrity.merge): what a merge of two users, or of two records here, does with collisions ------

# Both users have a session: the loser's is merged into the survivor's, and its keys, analyses and answers with it.
merge.declare(OnboardingSession, "user", merge.MergeRecords())
# Both sessions have a key for one provider: the newer key is kept; the other row's full copy is journaled.
merge.declare(ApiKey, "session", merge.MergeFields(rules={"secret": "newest"}, newest_by="updated_at"))
# Both have an analysis of the same site (url_key): one analysis, the other kept as its tombstone.
merge.declare(WebsiteAnalysis, "session", merge.MergeRecords())
# Both answered steps 3 and 4: the survivor's answers stay; the other's are journaled (undo brings them back).
merge.declare(ResearchPreferences, "session", merge.Collapse())
merge.declare(PersonaData, "session", merge.Collapse())
# A merged session keeps its own answers and takes the other's where it has none.
merge.declare_fill_empty(OnboardingSession, ["business_description", "website", "integrations", "completed_at"])
# Staff merge analyses within one user's session only.
merge.declare_same(WebsiteAnalysis, ["session"])
