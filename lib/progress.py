"""Progress bars for management commands: on stderr, and only when stderr is a terminal."""

import sys

from tqdm import tqdm


def progress(iterable, *, command, total: int | None = None, desc: str | None = None, verbosity: int = 1):
    """Wrap `iterable` in a tqdm bar when the command's stderr is a terminal and verbosity >= 1.

    Never hand `self.stdout` to tqdm: Django's OutputWrapper appends a newline to every frame.
    Cron jobs, CI logs and `call_command` get the plain iterable back.
    """
    if verbosity < 1 or not command.stderr.isatty():
        return iterable
    return tqdm(iterable, total=total, desc=desc, file=sys.stderr, leave=False, dynamic_ncols=True)


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress_counter(*, command, total: int, desc: str | None = None, verbosity: int = 1):
    """A bar to `update(n)` by hand (work done in batches); a silent stand-in off a terminal."""
    if verbosity < 1 or not command.stderr.isatty():
        return _Silent()
    return tqdm(total=total, desc=desc, file=sys.stderr, leave=False, dynamic_ncols=True)
