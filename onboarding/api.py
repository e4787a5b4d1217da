"""The onboarding JSON API (DRF, session authentication). Every view reads and writes through
onboarding.services for request.user; another user's analysis id is a 404 like a missing one.

Errors are JSON: 400 with field errors, 403 when not signed in, 404 {"detail": "Not found."}.
The OpenAPI schema is at /api/schema/ and shown at /api/docs/.
"""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.decorators import method_decorator
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from onboarding import services
from onboarding.models import WebsiteAnalysis


class AnalysisSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    url_key = serializers.CharField()
    status = serializers.ChoiceField(choices=WebsiteAnalysis.Status.choices)
    error = serializers.CharField(help_text="Why the last analysis of this URL failed; empty when it did not.")
    analyzed_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)
    writing_style = serializers.JSONField(allow_null=True)
    content_characteristics = serializers.JSONField(allow_null=True)
    target_audience = serializers.JSONField(allow_null=True)
    content_type = serializers.JSONField(allow_null=True)
    recommended_settings = serializers.JSONField(allow_null=True)
    crawl_result = serializers.JSONField(allow_null=True)
    style_patterns = serializers.JSONField(allow_null=True)
    style_guidelines = serializers.JSONField(allow_null=True)


class UrlSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000, help_text="The website, e.g. example.com or https://example.com/blog")

    def validate_url(self, value: str) -> str:
        try:
            services.clean_url(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        return value.strip()


CHECK_EXISTING_RESPONSE = inline_serializer(
    "CheckExisting",
    {"exists": serializers.BooleanField(), "analysis": AnalysisSerializer(allow_null=True)},
)
SESSION_ANALYSES_RESPONSE = inline_serializer("SessionAnalyses", {"analyses": AnalysisSerializer(many=True)})
SUMMARY_RESPONSE = inline_serializer(
    "OnboardingSummary",
    {
        "user": serializers.CharField(),
        "current_step": serializers.IntegerField(),
        "completed": serializers.BooleanField(),
        "completed_at": serializers.DateTimeField(allow_null=True),
        "api_keys": inline_serializer(
            "MaskedKeys",
            {
                "count": serializers.IntegerField(),
                "providers": inline_serializer(
                    "MaskedKey",
                    {
                        "provider": serializers.CharField(),
                        "label": serializers.CharField(),
                        "masked": serializers.CharField(),
                    },
                    many=True,
                ),
            },
        ),
        "website": AnalysisSerializer(allow_null=True),
        "business_description": serializers.CharField(),
        "analyses_count": serializers.IntegerField(),
        "research_preferences": serializers.JSONField(allow_null=True),
        "persona": serializers.JSONField(allow_null=True),
        "integrations": serializers.ListField(child=serializers.CharField()),
    },
)


def _analysis(analysis: WebsiteAnalysis) -> dict:
    return services.analysis_as_dict(analysis)


# The project requires login for every page; API views answer 403 JSON themselves (DRF's IsAuthenticated)
# instead of redirecting to the login page.
@method_decorator(login_not_required, name="dispatch")
class _OnboardingAPIView(APIView):
    pass


class CompleteStyleDetection(_OnboardingAPIView):
    @extend_schema(
        operation_id="style_detection_complete",
        summary="Analyze a website and store the result",
        description=(
            "Fetches the page, extracts its text and stores the style profile on the user's one analysis of "
            "that url_key (re-analysis updates the same row). A site that cannot be analyzed is stored and "
            "returned with status `failed` and the reason in `error`; it never replaces a completed analysis."
        ),
        request=UrlSerializer,
        responses={200: AnalysisSerializer},
    )
    def post(self, request):
        serializer = UrlSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        analysis = services.analyze_website(user=request.user, url=serializer.validated_data["url"])
        return Response(_analysis(analysis), status=status.HTTP_200_OK)


class CheckExisting(_OnboardingAPIView):
    @extend_schema(
        operation_id="style_detection_check_existing",
        summary="The user's analysis of the same url_key, if any",
        parameters=[OpenApiParameter("url", str, required=True, description="The website to look for.")],
        responses={200: CHECK_EXISTING_RESPONSE},
    )
    def get(self, request):
        serializer = UrlSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        analysis = services.find_existing_analysis(user=request.user, url=serializer.validated_data["url"])
        return Response({"exists": analysis is not None, "analysis": _analysis(analysis) if analysis else None})


class AnalysisDetail(_OnboardingAPIView):
    @extend_schema(operation_id="style_detection_analysis", summary="One of the user's analyses",
                   responses={200: AnalysisSerializer})  # fmt: skip
    def get(self, request, pk: int):
        try:
            analysis = services.get_analysis_for_user(user=request.user, analysis_id=pk)
        except WebsiteAnalysis.DoesNotExist:
            raise NotFound() from None
        return Response(_analysis(analysis))


class SessionAnalyses(_OnboardingAPIView):
    @extend_schema(operation_id="style_detection_session_analyses", summary="All of the user's analyses, newest first",
                   responses={200: SESSION_ANALYSES_RESPONSE})  # fmt: skip
    def get(self, request):
        return Response({"analyses": [_analysis(a) for a in services.analyses_for_user(request.user)]})


class Summary(_OnboardingAPIView):
    @extend_schema(operation_id="onboarding_summary", summary="Everything the wizard collected (step 6), keys masked",
                   responses={200: SUMMARY_RESPONSE})  # fmt: skip
    def get(self, request):
        return Response(services.summary_for_user(request.user).as_dict())
