"""ALwrity's legacy onboarding data: read it (`read`) and plan its import (`plan`), per legacy/alwrity.md.

onboarding.importer writes a plan into Cairn; `manage.py import_alwrity` ties them together.
"""

from onboarding.alwrity.plan import (
    ANALYSIS_FIELDS,
    AnalysisPlan,
    ImportPlan,
    UserPlan,
    h1,
    h2,
    plan_import,
)
from onboarding.alwrity.read import (
    SOURCE,
    TABLES,
    LegacyInputError,
    ProgressFile,
    Quarantined,
    is_numeric,
    read_database,
    read_json_dir,
)

__all__ = [
    "ANALYSIS_FIELDS",
    "SOURCE",
    "TABLES",
    "AnalysisPlan",
    "ImportPlan",
    "LegacyInputError",
    "ProgressFile",
    "Quarantined",
    "UserPlan",
    "h1",
    "h2",
    "is_numeric",
    "plan_import",
    "read_database",
    "read_json_dir",
]
