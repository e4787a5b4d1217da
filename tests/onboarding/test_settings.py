import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_an_invalid_allowed_network_stops_start_up_with_a_clear_message():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CAIRN_ONBOARDING_FETCH_ALLOWED_NETWORKS": "intranet",
    }
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "CAIRN_ONBOARDING_FETCH_ALLOWED_NETWORKS: 'intranet' is not a network" in result.stderr


def test_an_analyzer_that_cannot_be_imported_is_a_system_check_error(settings):
    from onboarding.checks import analyzer_is_importable

    assert analyzer_is_importable(None) == []
    settings.CAIRN_ONBOARDING_ANALYZER = "onboarding.analyzer.NoSuchAnalyzer"
    errors = analyzer_is_importable(None)
    assert [e.id for e in errors] == ["onboarding.E001"]
    assert "NoSuchAnalyzer" in errors[0].msg
