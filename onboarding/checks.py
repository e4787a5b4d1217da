from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string


@register()
def analyzer_is_importable(app_configs, **kwargs):
    """CAIRN_ONBOARDING_ANALYZER names a class that exists (else every analysis would be a server error)."""
    try:
        import_string(settings.CAIRN_ONBOARDING_ANALYZER)
    except ImportError as error:
        return [
            Error(
                f"CAIRN_ONBOARDING_ANALYZER = {settings.CAIRN_ONBOARDING_ANALYZER!r} cannot be imported ({error}).",
                hint="Name a class like onboarding.analyzer.StatisticalAnalyzer.",
                id="onboarding.E001",
            )
        ]
    return []
