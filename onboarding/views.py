from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def wizard(request):
    return render(request, "onboarding/wizard.html")
