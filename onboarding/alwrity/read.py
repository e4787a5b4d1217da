"""Read ALwrity's legacy inputs (legacy/alwrity.md A1, A3, A4, B1): the five tables by column name, decoded,
and the JSON progress files of a folder. Read-only: nothing is written next to the inputs.
"""

import json
import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

from lib.text import without_nul

TABLES = {
    "onboarding_sessions": ["id", "user_id", "current_step", "progress", "started_at", "updated_at"],
    "api_keys": ["id", "session_id", "provider", "key", "created_at", "updated_at"],
    "website_analyses": [
        "id", "session_id", "website_url", "status", "created_at", "updated_at", "writing_style",
        "content_characteristics", "target_audience", "content_type", "recommended_settings", "crawl_result",
        "style_patterns", "style_guidelines",
    ],
    "research_preferences": [
        "id", "session_id", "research_depth", "content_types", "auto_research", "factual_content", "created_at",
        "updated_at",
    ],
    "persona_data": [
        "id", "session_id", "core_persona", "platform_personas", "quality_metrics", "selected_platforms",
        "created_at", "updated_at",
    ],
}  # fmt: skip
JSON_COLUMNS = {
    "writing_style", "content_characteristics", "target_audience", "content_type", "recommended_settings",
    "crawl_result", "style_patterns", "style_guidelines", "content_types", "core_persona", "platform_personas",
    "quality_metrics", "selected_platforms",
}  # fmt: skip
TIME_COLUMNS = {"started_at", "updated_at", "created_at"}
GLOBAL_FILE = ".onboarding_progress.json"
USER_FILE = re.compile(r"\.onboarding_progress_(.+)\.json", re.DOTALL)
SOURCE = {
    "onboarding_sessions": "alwrity:onboarding_sessions",
    "api_keys": "alwrity:api_keys",
    "website_analyses": "alwrity:website_analyses",
    "research_preferences": "alwrity:research_preferences",
    "persona_data": "alwrity:persona_data",
    "json": "alwrity:json",
}


class LegacyInputError(Exception):
    """The inputs cannot be read at all (not a database, a missing table or column, no such folder)."""


def is_numeric(user_id) -> bool:
    """B2: an empty or all-digit id is a test or Integer-era id, not a user."""
    return user_id is None or not str(user_id).strip() or re.fullmatch(r"[0-9]+", str(user_id)) is not None


@dataclass
class Quarantined:
    table: str  # a TABLES key or "json"
    reason: str
    payload: dict

    @property
    def source(self) -> str:
        return SOURCE[self.table]


def _json(value):
    """A JSON column: the text `null` and SQL NULL are both None (A4.1)."""
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, str):
        try:
            return without_nul(json.loads(value))  # a "\u0000" escape is a NUL too
        except (ValueError, RecursionError):  # (RecursionError: nested deeper than the parser goes)
            return value  # kept as stored rather than lost
    return value


def parse_time(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        return None


def as_int(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        return int(value.strip())
    return None


def _connect(db: str):
    """A read-only DB-API connection to a SQLite file/URL or a PostgreSQL URL."""
    if db.startswith(("postgres://", "postgresql://")):
        import psycopg

        try:
            connection = psycopg.connect(db, autocommit=False)
        except psycopg.Error as error:
            raise LegacyInputError(f"--db: cannot connect to PostgreSQL ({type(error).__name__}).") from None
        connection.read_only = True
        return connection
    path = db
    if db.startswith("sqlite:///"):  # SQLAlchemy's form: sqlite:///relative/path, sqlite:////absolute/path
        path = unquote(db[len("sqlite:///") :])
    if not Path(path).is_file():
        raise LegacyInputError(f"--db {db}: no such file.")
    uri = Path(path).resolve().as_uri()
    try:
        return _open_sqlite(f"{uri}?mode=ro")
    except sqlite3.OperationalError:
        # A WAL database in a folder we may not write to cannot be opened read-only (SQLite wants its -shm
        # file); an import reads a copy at rest, so open it as immutable instead.
        try:
            return _open_sqlite(f"{uri}?immutable=1")
        except sqlite3.DatabaseError as error:
            raise LegacyInputError(f"--db {db}: cannot be read as a SQLite database ({error}).") from None
    except sqlite3.DatabaseError as error:
        raise LegacyInputError(f"--db {db}: not a SQLite database ({error}).") from None


def _open_sqlite(uri: str):
    connection = sqlite3.connect(uri, uri=True)
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError:
        connection.close()
        raise
    return connection


def read_database(db: str) -> dict[str, list[dict]]:
    """Every row of the five tables, by column name (extra columns and tables are ignored), decoded."""
    connection = _connect(db)
    tables = {}
    try:
        for table, columns in TABLES.items():
            cursor = connection.cursor()
            try:
                cursor.execute(f'SELECT * FROM "{table}" WHERE 1 = 0')
                present = {d[0] for d in cursor.description}
            except Exception as error:
                raise LegacyInputError(f"--db: table {table} cannot be read ({type(error).__name__}).") from None
            finally:
                if hasattr(connection, "rollback"):
                    connection.rollback()
            missing = [c for c in columns if c not in present]
            if missing:
                raise LegacyInputError(f"--db: table {table} has no column {', '.join(missing)}.")
            cursor = connection.cursor()
            cursor.execute("SELECT " + ", ".join(f'"{c}"' for c in columns) + f' FROM "{table}" ORDER BY "id"')
            rows = []
            for values in cursor.fetchall():
                row = without_nul(dict(zip(columns, values, strict=True)))  # (PostgreSQL cannot store NUL)
                for column in columns:
                    if column in JSON_COLUMNS:
                        row[column] = _json(row[column])
                    elif column in TIME_COLUMNS:
                        row[column] = parse_time(row[column])
                rows.append(row)
            tables[table] = rows
    finally:
        connection.close()
    return tables


@dataclass
class ProgressFile:
    name: str
    user_id: str
    size: int
    data: dict | None  # None: unreadable
    error: str = ""

    def step(self, number: int) -> dict | None:
        for step in self.data.get("steps", []) if self.data else []:
            if isinstance(step, dict) and step.get("step_number") == number:
                return step
        return None

    def completed_step(self, number: int) -> dict | None:
        step = self.step(number)
        return step if step is not None and step.get("status") == "completed" else None


def read_json_dir(json_dir: str) -> tuple[list[ProgressFile], list["Quarantined"]]:
    """The per-user progress files of non-numeric ids (readable or not), and the quarantined files (B1)."""
    folder = Path(json_dir)
    if not folder.is_dir():
        raise LegacyInputError(f"--json-dir {json_dir}: no such folder.")
    files, quarantined = [], []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if not entry.is_file(follow_symlinks=False):
            continue
        size = entry.stat(follow_symlinks=False).st_size
        if entry.name == GLOBAL_FILE:
            quarantined.append(Quarantined("json", "global_progress_file", {"legacy_id": entry.name, "size": size}))
            continue
        match = USER_FILE.fullmatch(entry.name)
        if not match:
            continue
        user_id = match.group(1)
        if is_numeric(user_id):
            payload = {"legacy_id": entry.name, "user_id": user_id, "size": size}
            quarantined.append(Quarantined("json", "numeric_user_id", payload))
            continue
        data, error = None, ""
        try:
            data = without_nul(json.loads(Path(entry.path).read_bytes().decode("utf-8")))
        except UnicodeDecodeError as exc:
            error = f"not UTF-8 (byte {exc.start})"
        except json.JSONDecodeError as exc:
            error = f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        except (ValueError, RecursionError) as exc:  # a number too long to convert, nesting too deep
            error = f"not JSON Python can read: {type(exc).__name__}"
        if data is not None and not (isinstance(data, dict) and isinstance(data.get("steps"), list)):
            data, error = None, "not an object with a steps list"
        if data is None:
            payload = {"legacy_id": entry.name, "user": user_id, "size": size, "error": error}
            quarantined.append(Quarantined("json", "unreadable_json", payload))
        files.append(ProgressFile(name=entry.name, user_id=user_id, size=size, data=data, error=error))
    return files, quarantined
