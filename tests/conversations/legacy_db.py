"""Build small legacy conversations databases (legacy/conversations.md §2) for import tests."""

import sqlite3

SCHEMA = """
CREATE TABLE conversations (id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, user_id TEXT, transcript TEXT,
    analysis TEXT, audio_filename TEXT, created_at TEXT NOT NULL, updated_at TEXT);
CREATE TABLE subcontractors (id TEXT PRIMARY KEY, phone_number TEXT NOT NULL, name TEXT NOT NULL);
CREATE TABLE conversation_sessions (id TEXT PRIMARY KEY, subcontractor_id TEXT NOT NULL, status TEXT NOT NULL,
    created_at TEXT NOT NULL, last_message_at TEXT, ended_at TEXT, end_reason TEXT);
CREATE TABLE messages (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, direction TEXT NOT NULL, content TEXT NOT NULL,
    message_sid TEXT, tool_outputs TEXT, created_at TEXT NOT NULL);
"""


def build(path, *, conversations=(), subcontractors=(), sessions=(), messages=()):
    """Write a legacy database at `path` from tuples in each table's column order; return the path."""
    connection = sqlite3.connect(path)
    with connection:
        connection.executescript(SCHEMA)
        connection.executemany("INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?, ?, ?)", conversations)
        connection.executemany("INSERT INTO subcontractors VALUES (?, ?, ?)", subcontractors)
        connection.executemany("INSERT INTO conversation_sessions VALUES (?, ?, ?, ?, ?, ?, ?)", sessions)
        connection.executemany("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)", messages)
    connection.close()
    return str(path)
