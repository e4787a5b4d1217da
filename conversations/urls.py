from django.urls import path

from conversations import views

app_name = "conversations"

# Full paths: the project includes this module at the root, so pages live under conversations/ and
# the API under api/conversations/.
urlpatterns = [
    path("conversations/", views.conversation_list, name="list"),
]
