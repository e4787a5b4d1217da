from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("join/<str:token>/", views.join, name="join"),
    path("invites/", views.invites, name="invites"),
    path("invites/<int:pk>/revoke/", views.revoke_invite, name="revoke_invite"),
    path("people/<int:pk>/", views.profile, name="profile"),
]
