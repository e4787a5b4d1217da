"""The six-step wizard at /onboarding/. Every read and write goes through onboarding.services, scoped to
request.user; an id of someone else's analysis is a 404."""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from onboarding import services
from onboarding.forms import (
    ApiKeyForm,
    DescriptionForm,
    IntegrationsForm,
    PersonaForm,
    PlatformsForm,
    PreferencesForm,
    WebsiteForm,
)
from onboarding.models import STEP_COUNT, STEP_TITLES, WebsiteAnalysis
from onboarding.providers import PROVIDERS


def _get_analysis_for_user(request, pk) -> WebsiteAnalysis:
    try:
        return services.get_analysis_for_user(user=request.user, analysis_id=pk)
    except WebsiteAnalysis.DoesNotExist:
        raise Http404("No such analysis.") from None


def _to_step(step: int):
    return redirect("onboarding:step", step=step)


def _context(request, step: int, **extra) -> dict:
    session = services.session_for_user(request.user)
    reached = services.reached_step(session)
    steps = [
        {"number": n, "title": title, "reachable": n <= reached, "current": n == step}
        for n, title in STEP_TITLES.items()
    ]
    return {
        "session": session,
        "step": step,
        "step_title": STEP_TITLES[step],
        "steps": steps,
        "step_count": STEP_COUNT,
        "progress_percent": round(100 * (reached - 1 + session.is_completed) / STEP_COUNT),
        "previous_step": step - 1 if step > 1 else None,
        **extra,
    }


@require_GET
def wizard(request):
    """Resume where the user left off."""
    return _to_step(services.reached_step(services.session_for_user(request.user)))


@sensitive_post_parameters("key")  # an error report never shows a submitted API key
@require_http_methods(["GET", "POST"])
def step(request, step):
    if not 1 <= step <= STEP_COUNT:
        raise Http404("No such step.")
    reached = services.reached_step(services.session_for_user(request.user))
    if step > reached:
        messages.info(request, f"Finish “{STEP_TITLES[reached]}” first.")
        return _to_step(reached)
    return STEP_VIEWS[step](request)


def _keys_step(request):
    form = ApiKeyForm(request.POST if request.POST.get("action") == "save" else None)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "save" and form.is_valid():
            try:
                key = services.save_api_key(user=request.user, **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Saved your {ApiKeyForm.label(key.provider)} key ({key.masked}).")
                return _to_step(1)
        elif action == "next":
            if services.api_keys_for_user(request.user).exists():
                services.complete_step(user=request.user, step=1)
                return _to_step(2)
            messages.error(request, "Add at least one API key to continue.")
            return _to_step(1)
    keys = [
        {"provider": k.provider, "label": ApiKeyForm.label(k.provider), "masked": k.masked}
        for k in services.api_keys_for_user(request.user)
    ]
    return render(request, "onboarding/step_keys.html", _context(request, 1, form=form, keys=keys))


@require_POST
def remove_key(request, provider):
    if services.remove_api_key(user=request.user, provider=provider):
        label = PROVIDERS[provider].label if provider in PROVIDERS else provider
        messages.success(request, f"Removed your {label} key.")
    else:
        messages.info(request, "There was no such key.")
    return _to_step(1)


def _website_step(request):
    action = request.POST.get("action") if request.method == "POST" else None
    form = WebsiteForm(request.POST if action == "analyze" else None)
    description_form = DescriptionForm(
        request.POST if action == "describe" else None,
        initial={"description": services.session_for_user(request.user).business_description},
    )
    existing = None
    if action == "analyze" and form.is_valid():
        url = form.cleaned_data["url"]
        existing = services.find_existing_analysis(user=request.user, url=url)
        if existing is None or existing.status != "completed" or request.POST.get("again"):
            analysis = services.analyze_website(user=request.user, url=url)
            if analysis.is_completed and not analysis.error:
                messages.success(request, f"Analyzed {analysis.url}.")
            elif analysis.is_completed:
                messages.warning(
                    request, f"Could not analyze {url} again: {analysis.error} Your earlier analysis is kept."
                )
            else:
                messages.error(request, f"Could not analyze {url}: {analysis.error}")
            return _to_step(2)
    elif action == "describe" and description_form.is_valid():
        services.save_business_description(user=request.user, **description_form.cleaned_data)
        services.complete_step(user=request.user, step=2)
        messages.success(request, "Saved your business description.")
        return _to_step(3)
    elif action == "next":
        session = services.session_for_user(request.user)
        if services.chosen_analysis(session) or session.business_description:
            services.complete_step(user=request.user, step=2)
            return _to_step(3)
        messages.error(request, "Analyze your website, or describe your business, to continue.")
        return _to_step(2)
    session = services.session_for_user(request.user)
    context = _context(
        request,
        2,
        form=form,
        description_form=description_form,
        existing=existing,
        chosen=services.chosen_analysis(session) if session.pk else None,
        analyses=services.analyses_for_user(request.user),
    )
    return render(request, "onboarding/step_website.html", context)


@require_POST
def use_analysis(request, pk):
    analysis = _get_analysis_for_user(request, pk)
    services.use_analysis(user=request.user, analysis_id=analysis.pk)
    messages.success(request, f"Using your analysis of {analysis.url}.")
    return _to_step(2)


@require_GET
def analysis_detail(request, pk):
    analysis = _get_analysis_for_user(request, pk)
    fields = [(name.replace("_", " "), json.dumps(getattr(analysis, name), indent=2, ensure_ascii=False))
              for name in services.STYLE_FIELDS if getattr(analysis, name) is not None]  # fmt: skip
    return render(request, "onboarding/analysis.html", {"analysis": analysis, "fields": fields})


def _preferences_step(request):
    preferences = services.summary_for_user(request.user).preferences
    initial = (
        {
            "research_depth": preferences.research_depth,
            "content_types": preferences.content_types,
            "auto_research": bool(preferences.auto_research),
            "factual_content": bool(preferences.factual_content),
        }
        if preferences
        else {"auto_research": True, "factual_content": True}
    )
    form = PreferencesForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_research_preferences(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            services.complete_step(user=request.user, step=3)
            messages.success(request, "Saved your research preferences.")
            return _to_step(4)
    return render(request, "onboarding/step_preferences.html", _context(request, 3, form=form))


def _persona_step(request):
    persona = services.summary_for_user(request.user).persona
    action = request.POST.get("action") if request.method == "POST" else None
    platforms_form = PlatformsForm(
        request.POST if action == "generate" else None,
        initial={"selected_platforms": persona.selected_platforms if persona else ["blog"]},
    )
    persona_form = None
    if persona is not None:
        persona_form = PersonaForm(
            request.POST if action == "save" else None,
            initial={
                "core_persona": json.dumps(persona.core_persona, indent=2, ensure_ascii=False),
                "selected_platforms": persona.selected_platforms,
            },
        )
    if action == "generate" and platforms_form.is_valid():
        services.generate_persona(user=request.user, **platforms_form.cleaned_data)
        messages.success(request, "Built your persona. Review and edit it, then continue.")
        return _to_step(4)
    if action == "save" and persona_form is not None and persona_form.is_valid():
        try:
            services.save_persona(user=request.user, **persona_form.cleaned_data)
        except ValidationError as error:
            persona_form.add_error(None, error)
        else:
            services.complete_step(user=request.user, step=4)
            messages.success(request, "Saved your persona.")
            return _to_step(5)
    context = _context(request, 4, persona=persona, platforms_form=platforms_form, persona_form=persona_form)
    return render(request, "onboarding/step_persona.html", context)


def _integrations_step(request):
    session = services.session_for_user(request.user)
    form = IntegrationsForm(
        request.POST if request.method == "POST" else None, initial={"platforms": session.integrations}
    )
    if request.method == "POST" and form.is_valid():
        services.save_integrations(user=request.user, **form.cleaned_data)
        services.complete_step(user=request.user, step=5)
        messages.success(request, "Saved your integrations.")
        return _to_step(6)
    return render(request, "onboarding/step_integrations.html", _context(request, 5, form=form))


def _summary_step(request):
    if request.method == "POST":
        services.finish_onboarding(user=request.user)
        messages.success(request, "Onboarding complete. Welcome aboard!")
        return _to_step(6)
    summary = services.summary_for_user(request.user)
    return render(request, "onboarding/step_summary.html", _context(request, 6, summary=summary))


STEP_VIEWS = {
    1: _keys_step,
    2: _website_step,
    3: _preferences_step,
    4: _persona_step,
    5: _integrations_step,
    6: _summary_step,
}
