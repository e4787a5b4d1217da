from django.urls import path

from onboarding import views

app_name = "onboarding"

# Full paths: the project includes this module at the root, so pages live under onboarding/ and
# the API under api/onboarding/.
urlpatterns = [
    path("onboarding/", views.wizard, name="wizard"),
    path("onboarding/step/<int:step>/", views.step, name="step"),
    path("onboarding/keys/<slug:provider>/remove/", views.remove_key, name="remove_key"),
    path("onboarding/analyses/<int:pk>/", views.analysis_detail, name="analysis"),
    path("onboarding/analyses/<int:pk>/use/", views.use_analysis, name="use_analysis"),
]
