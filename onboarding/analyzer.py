"""Website analyzers: a URL in, an AnalysisResult out. The class is pluggable (CAIRN_ONBOARDING_ANALYZER).

An analyzer never raises for a site that cannot be analyzed: it returns a failed result with a sentence
saying why, which the wizard shows and services.record_analysis stores.
"""

import logging
from dataclasses import dataclass, field

import trafilatura
from django.conf import settings
from django.utils.module_loading import import_string

from onboarding import style
from onboarding.fetch import FetchError, fetch_page

MIN_WORDS = 50
logger = logging.getLogger(__name__)


@dataclass
class AnalysisResult:
    ok: bool
    fields: dict = field(default_factory=dict)  # the STYLE_FIELDS of a completed analysis
    error: str = ""

    @classmethod
    def failed(cls, error: str) -> "AnalysisResult":
        return cls(ok=False, error=error)


class Analyzer:
    """The interface: subclass it (an LLM-backed analyzer, say) and name the class in the setting."""

    def analyze(self, url: str) -> AnalysisResult:
        raise NotImplementedError


class StatisticalAnalyzer(Analyzer):
    """Fetch the page (onboarding.fetch), extract its main text (trafilatura), measure it (onboarding.style)."""

    def analyze(self, url: str) -> AnalysisResult:
        try:
            page = fetch_page(url)
        except FetchError as error:
            return AnalysisResult.failed(str(error))
        try:
            return self._analyze_page(page)
        except Exception:  # a hostile or broken page must not become a server error
            logger.exception("Analyzing %s failed", page.final_url)
            return AnalysisResult.failed("The page could not be read (its HTML could not be analyzed).")

    def _analyze_page(self, page) -> AnalysisResult:
        text = trafilatura.extract(page.body, url=page.final_url, include_comments=False, include_tables=False)
        words = len((text or "").split())
        if words < MIN_WORDS:
            return AnalysisResult.failed(
                f"Found too little text on the page to analyze ({words} words; at least {MIN_WORDS} are needed)."
            )
        metadata = trafilatura.extract_metadata(page.body, default_url=page.final_url)
        result = self.analyze_text(text)
        result.fields["crawl_result"] = {
            "url": page.url,
            "final_url": page.final_url,
            "redirects": page.redirects,
            "status_code": page.status_code,
            "content_type": page.content_type,
            "bytes": len(page.body),
            "title": metadata.title if metadata else None,
            "word_count": words,
        }
        return result

    def analyze_text(self, text: str) -> AnalysisResult:
        """The style profile of a text, without fetching anything (also used for demo data)."""
        return AnalysisResult(ok=True, fields=style.profile(style.measure(text)))


def get_analyzer() -> Analyzer:
    return import_string(settings.CAIRN_ONBOARDING_ANALYZER)()
