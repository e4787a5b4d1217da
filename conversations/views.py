from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def conversation_list(request):
    return render(request, "conversations/list.html")
