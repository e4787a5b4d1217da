"""Reading and writing files under CAIRN_ARCHIVE_ROOT (the "archives" storage), for every app that archives.

Names are POSIX paths relative to the root. New files appear atomically and never overwrite: the content
is written to a temporary file in the same folder and hard-linked to its final name, which fails if the
name exists, so two prayers submitted in the same minute get `_2`, `_3`… instead of clobbering each
other. Appends open the file in append mode; callers serialize appends to one file with a row lock.
"""

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC
from pathlib import PurePosixPath

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import storages


class ArchiveWriteError(Exception):
    """The archive could not be written; the message says which file and why."""


def archive_storage():
    return storages["archives"]


def _path(name: str) -> str:
    storage = archive_storage()
    root = os.path.realpath(storage.location)
    try:
        path = os.path.realpath(storage.path(name))
    except SuspiciousFileOperation:
        raise ArchiveWriteError(f"{name}: outside the archive root") from None
    if os.path.commonpath([root, path]) != root:
        raise ArchiveWriteError(f"{name}: outside the archive root")
    return path


def numbered_name(name: str, n: int) -> str:
    """`a/b.txt` → `a/b.txt` for n=1, `a/b_2.txt` for n=2 (ThyWill's naming of same-minute files)."""
    if n == 1:
        return name
    path = PurePosixPath(name)
    return str(path.with_name(f"{path.stem}_{n}{path.suffix}"))


def create_new(name: str, content: str) -> str:
    """Create a file with `content` at `name`, or at the next free `_N` name; return the name used."""
    first = _path(name)
    folder = os.path.dirname(first)
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, prefix=".tmp-", delete=False) as tmp:
            tmp.write(content)
            tmp.flush()
            os.fsync(tmp.fileno())
        try:
            for n in range(1, 10_000):
                candidate = numbered_name(name, n)
                try:
                    os.link(tmp.name, _path(candidate))  # fails if the name exists: exclusive create
                except FileExistsError:
                    continue
                return candidate
            raise ArchiveWriteError(f"{name}: no free name")
        finally:
            os.unlink(tmp.name)
    except OSError as error:
        raise ArchiveWriteError(f"{name}: {error.strerror or error}") from error


@dataclass(frozen=True)
class Appended:
    """Bytes `start`..`end` of `name` were appended; `start` is None when the append created the file."""

    name: str
    start: int | None
    end: int


_recorders: ContextVar[tuple[list[Appended], ...]] = ContextVar("archive_appends", default=())


@contextmanager
def recording_appends() -> Iterator[list[Appended]]:
    """Collect every append made inside the block, so that an import can journal (and undo) them."""
    appended: list[Appended] = []
    token = _recorders.set((*_recorders.get(), appended))
    try:
        yield appended
    finally:
        _recorders.reset(token)


def _write_at_end(name: str, data: bytes) -> int:
    """Append `data`; the file's size just after it (O_APPEND: the end of exactly these bytes)."""
    try:
        with open(_path(name), "ab") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
            return file.tell()
    except OSError as error:
        raise ArchiveWriteError(f"{name}: {error.strerror or error}") from error


def _recorded(name: str, start: int | None, end: int) -> None:
    for appended in _recorders.get():
        appended.append(Appended(name, start, end))


def append(name: str, text: str) -> None:
    """Append `text` to an existing file."""
    data = text.encode()
    end = _write_at_end(name, data)
    _recorded(name, end - len(data), end)


def append_creating(name: str, *, header: str, text: str) -> None:
    """Append `text`, creating the file with `header` first when it does not exist (monthly logs)."""
    path = _path(name)
    data = text.encode()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "xb") as file:  # header and text in one write: nobody appends in between
            file.write(header.encode() + data)
            file.flush()
            os.fsync(file.fileno())
            _recorded(name, None, file.tell())
        return
    except FileExistsError:
        pass
    except OSError as error:
        raise ArchiveWriteError(f"{name}: {error.strerror or error}") from error
    append(name, text)


def read_bytes(name: str) -> bytes | None:
    try:
        with open(_path(name), "rb") as file:
            return file.read()
    except FileNotFoundError:
        return None


def exists(name: str) -> bool:
    return os.path.isfile(_path(name))


def place(name: str, data: bytes, *, numbered: bool) -> str | None:
    """Put `data` at `name` unless it is there already; return the name that holds it.

    A file already at `name` that starts with `data` is the same file, with events appended since: nothing
    is written. Any other file there is never overwritten: with `numbered`, the next `_N` name is tried;
    without, None is returned (the caller reports the conflict).
    """
    return place_reporting(name, data, numbered=numbered)[0]


def place_reporting(name: str, data: bytes, *, numbered: bool) -> tuple[str | None, bool]:
    """`place()`, and whether it created the file (False when the file was already there, or refused)."""
    for n in range(1, 10_000):
        candidate = numbered_name(name, n)
        existing = read_bytes(candidate)
        if existing is not None and existing.startswith(data):
            return candidate, False
        if existing is None:
            try:
                return _create_exactly(candidate, data), True
            except FileExistsError:
                existing = read_bytes(candidate)  # someone created it meanwhile
                if existing is not None and existing.startswith(data):
                    return candidate, False
        if not numbered:
            return None, False
    raise ArchiveWriteError(f"{name}: no free name")


def truncate(name: str, size: int) -> None:
    """Cut a file back to `size` bytes (undoing an append); a missing file is left missing."""
    try:
        os.truncate(_path(name), size)
    except FileNotFoundError:
        pass
    except OSError as error:
        raise ArchiveWriteError(f"{name}: {error.strerror or error}") from error


def size(name: str) -> int | None:
    """The size in bytes of the file at `name`, or None when there is none."""
    try:
        return os.stat(_path(name)).st_size
    except FileNotFoundError:
        return None


def delete(name: str) -> None:
    try:
        os.unlink(_path(name))
    except FileNotFoundError:
        pass
    except OSError as error:
        raise ArchiveWriteError(f"{name}: {error.strerror or error}") from error


def create_exactly(name: str, data: bytes) -> str:
    """Create `name` with `data`, atomically; FileExistsError if the name is taken (never overwrites)."""
    return _create_exactly(name, data)


def _create_exactly(name: str, data: bytes) -> str:
    path = _path(name)
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=folder, prefix=".tmp-", delete=False) as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        try:
            os.link(tmp.name, path)
        finally:
            os.unlink(tmp.name)
    except FileExistsError:
        raise
    except OSError as error:
        raise ArchiveWriteError(f"{name}: {error.strerror or error}") from error
    return name


def render_line(*, at, human: str, data: dict) -> str:
    """One archive event line: `<UTC ISO time> - <human text><TAB><JSON>` (docs/archive-format.md).

    The human text has its whitespace collapsed (no tab or line break); JSON escapes every control
    character, so the line holds exactly one tab and one line break.
    """
    moment = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{moment} - {' '.join(human.split())}\t{json.dumps(data, ensure_ascii=False)}\n"
