from django.urls import path

from archives import views

app_name = "archives"

urlpatterns = [
    path("", views.wall, name="wall"),
    path("<str:archive_id>/", views.prayer_detail, name="prayer"),
    path("<str:archive_id>/pray/", views.pray, name="pray"),
    path("<str:archive_id>/answer/", views.answer, name="answer"),
    path("<str:archive_id>/archive/", views.archive, name="archive"),
    path("<str:archive_id>/restore/", views.restore, name="restore"),
    path("<str:archive_id>/flag/", views.flag, name="flag"),
]
