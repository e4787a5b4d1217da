from django.urls import path

from conversations import api, views, webhook

app_name = "conversations"

# Full paths: the project includes this module at the root, so pages live under conversations/ and
# the API under api/conversations/.
urlpatterns = [
    path("conversations/", views.conversation_list, name="list"),
    path("conversations/record/", views.record, name="record"),
    path("conversations/<int:pk>/", views.conversation_detail, name="detail"),
    path("conversations/<int:pk>/audio", views.conversation_audio, name="audio"),
    path("conversations/chat/", views.chat, name="chat"),
    path("conversations/chat/history/", views.chat_history, name="chat_history"),
    path("conversations/chat/<int:pk>/", views.chat_session, name="chat_session"),
    path("api/conversations/upload-audio", api.upload_audio, name="api_upload_audio"),
    path("api/conversations/save-analysis", api.save_analysis, name="api_save_analysis"),
    path("api/conversations/messages", webhook.receive, name="api_messages"),
    path("api/conversations/by-session-id/<str:session_id>", api.conversation_detail, name="api_detail"),
]
