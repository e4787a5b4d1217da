from onboarding.analyzer import AnalysisResult, Analyzer, StatisticalAnalyzer

TEXT = (
    "We bake bread every morning in our small shop. You can taste the difference in every loaf we make. "
    "Our sourdough rises for two days before it meets the oven. We use flour from a mill down the road. "
) * 5


class FakeAnalyzer(Analyzer):
    """No network: a URL containing "fail" fails; any other gets the profile of a fixed text."""

    def analyze(self, url: str) -> AnalysisResult:
        if "fail" in url:
            return AnalysisResult.failed("The site answered HTTP 503.")
        result = StatisticalAnalyzer().analyze_text(TEXT)
        result.fields["crawl_result"] = {"url": url, "title": "Fake"}
        return result
