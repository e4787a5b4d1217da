import factory

from onboarding import crypto
from onboarding.models import ApiKey, OnboardingSession, PersonaData, ResearchPreferences, WebsiteAnalysis
from onboarding.normalize import url_key
from tests.accounts.factories import UserFactory


class OnboardingSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OnboardingSession

    user = factory.SubFactory(UserFactory)


class ApiKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiKey

    class Params:
        plaintext = factory.Sequence(lambda n: f"AIzaTESTKEY{n:028d}")

    session = factory.SubFactory(OnboardingSessionFactory)
    provider = "gemini"
    secret = factory.LazyAttribute(lambda key: crypto.encrypt(key.plaintext))


class WebsiteAnalysisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebsiteAnalysis

    session = factory.SubFactory(OnboardingSessionFactory)
    url = factory.Sequence(lambda n: f"https://site{n}.example.com")
    url_key = factory.LazyAttribute(lambda analysis: url_key(analysis.url))
    status = WebsiteAnalysis.Status.COMPLETED
    writing_style = factory.LazyFunction(lambda: {"tone": "friendly", "voice": "active"})
    recommended_settings = factory.LazyFunction(lambda: {"content_type": "blog post", "target_sentence_length": 14})


class ResearchPreferencesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResearchPreferences

    session = factory.SubFactory(OnboardingSessionFactory)
    research_depth = "Deep"
    content_types = factory.LazyFunction(lambda: ["blog", "social"])
    auto_research = True
    factual_content = True


class PersonaDataFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PersonaData

    session = factory.SubFactory(OnboardingSessionFactory)
    core_persona = factory.LazyFunction(lambda: {"identity": "A friendly writer", "tone": "friendly"})
    platform_personas = factory.LazyFunction(dict)
    quality_metrics = factory.LazyFunction(dict)
    selected_platforms = factory.LazyFunction(list)
