from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from onboarding import api, views

app_name = "onboarding"

# Full paths: the project includes this module at the root, so pages live under onboarding/ and
# the API under api/onboarding/.
urlpatterns = [
    path("onboarding/", views.wizard, name="wizard"),
    path("onboarding/step/<int:step>/", views.step, name="step"),
    # Any provider string: imported ALwrity keys keep their provider names, which need not be slugs.
    path("onboarding/keys/<path:provider>/remove/", views.remove_key, name="remove_key"),
    path("onboarding/analyses/<int:pk>/", views.analysis_detail, name="analysis"),
    path("onboarding/analyses/<int:pk>/use/", views.use_analysis, name="use_analysis"),
    # The JSON API.
    path(
        "api/onboarding/style-detection/complete",
        api.CompleteStyleDetection.as_view(),
        name="api_style_detection_complete",
    ),
    path("api/onboarding/style-detection/check-existing", api.CheckExisting.as_view(), name="api_check_existing"),
    path("api/onboarding/style-detection/analysis/<int:pk>", api.AnalysisDetail.as_view(), name="api_analysis"),
    path("api/onboarding/style-detection/session-analyses", api.SessionAnalyses.as_view(), name="api_session_analyses"),
    path("api/onboarding/summary", api.Summary.as_view(), name="api_summary"),
    # The OpenAPI schema of the project's API (drf-spectacular) and its Swagger UI.
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="onboarding:api_schema"), name="api_docs"),
]
