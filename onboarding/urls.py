from django.urls import path

from onboarding import views

app_name = "onboarding"

# Full paths: the project includes this module at the root, so pages live under onboarding/ and
# the API under api/onboarding/.
urlpatterns = [
    path("onboarding/", views.wizard, name="wizard"),
]
