"""Build small ALwrity legacy inputs (a SQLite database created by ALwrity's DDL, and JSON progress files)."""

import json
import sqlite3
from pathlib import Path

DDL = """
CREATE TABLE onboarding_sessions (id INTEGER NOT NULL, user_id VARCHAR(255) NOT NULL, current_step INTEGER,
  progress FLOAT, started_at DATETIME, updated_at DATETIME, PRIMARY KEY (id));
CREATE TABLE api_keys (id INTEGER NOT NULL, session_id INTEGER, provider VARCHAR(64) NOT NULL,
  "key" VARCHAR(256) NOT NULL, created_at DATETIME, updated_at DATETIME, PRIMARY KEY (id));
CREATE TABLE website_analyses (id INTEGER NOT NULL, session_id INTEGER NOT NULL, website_url VARCHAR(500) NOT NULL,
  analysis_date DATETIME, writing_style JSON, content_characteristics JSON, target_audience JSON, content_type JSON,
  recommended_settings JSON, crawl_result JSON, style_patterns JSON, style_guidelines JSON, status VARCHAR(50),
  error_message TEXT, warning_message TEXT, created_at DATETIME, updated_at DATETIME, PRIMARY KEY (id));
CREATE TABLE research_preferences (id INTEGER NOT NULL, session_id INTEGER NOT NULL,
  research_depth VARCHAR(50) NOT NULL,
  content_types JSON NOT NULL, auto_research BOOLEAN, factual_content BOOLEAN, writing_style JSON,
  content_characteristics JSON, target_audience JSON, recommended_settings JSON, created_at DATETIME,
  updated_at DATETIME, PRIMARY KEY (id));
CREATE TABLE persona_data (id INTEGER NOT NULL, session_id INTEGER NOT NULL, core_persona JSON, platform_personas JSON,
  quality_metrics JSON, selected_platforms JSON, created_at DATETIME, updated_at DATETIME, PRIMARY KEY (id));
"""
JSON_COLUMNS = {
    "writing_style", "content_characteristics", "target_audience", "content_type", "recommended_settings",
    "crawl_result", "style_patterns", "style_guidelines", "content_types", "core_persona", "platform_personas",
    "quality_metrics", "selected_platforms",
}  # fmt: skip
FULL = {
    "writing_style": {"tone": "warm"},
    "content_characteristics": {"sentence_structure": "short"},
    "target_audience": {"demographics": ["owners"]},
    "content_type": {"primary_type": "blog"},
    "recommended_settings": {"writing_tone": "warm"},
    "crawl_result": {"success": True},
    "style_patterns": {"patterns": 1},
    "style_guidelines": {"guidelines": ["be kind"]},
}


def write_db(path: Path, **tables) -> Path:
    """tables: name -> list of row dicts (JSON values are dumped; a missing JSON column is the text null)."""
    connection = sqlite3.connect(path)
    connection.executescript(DDL)
    for table, rows in tables.items():
        for row in rows:
            row = {k: (json.dumps(v) if k in JSON_COLUMNS else v) for k, v in row.items()}
            columns = ", ".join(f'"{c}"' for c in row)
            connection.execute(
                f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(row))})", list(row.values())
            )
    connection.commit()
    connection.close()
    return path


def progress_file(*, steps: dict[int, tuple[str, str | None, dict | None]], current_step=1, is_completed=False,
                  completed_at=None, last_updated="2025-10-20T10:00:00") -> str:  # fmt: skip
    """steps: number -> (status, completed_at, data)."""
    return json.dumps(
        {
            "steps": [
                {
                    "step_number": n,
                    "title": f"Step {n}",
                    "description": "",
                    "status": steps.get(n, ("pending", None, None))[0],
                    "completed_at": steps.get(n, ("pending", None, None))[1],
                    "data": steps.get(n, ("pending", None, None))[2],
                    "validation_errors": [],
                }
                for n in range(1, 7)
            ],
            "current_step": current_step,
            "started_at": "2025-10-01T09:00:00",
            "last_updated": last_updated,
            "is_completed": is_completed,
            "completed_at": completed_at,
        },
        indent=2,
    )


def write_json_dir(path: Path, files: dict[str, str | bytes]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    return path
