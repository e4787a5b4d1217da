import io

from django.core.management.base import OutputWrapper
from tqdm import tqdm

from lib.progress import progress, progress_counter


class FakeCommand:
    def __init__(self, tty):
        stream = io.StringIO()
        stream.isatty = lambda: tty
        self.stderr = OutputWrapper(stream)


def test_off_a_terminal_the_iterable_comes_back_unchanged():
    items = [1, 2, 3]
    assert progress(items, command=FakeCommand(tty=False)) is items
    assert not isinstance(progress_counter(command=FakeCommand(tty=False), total=3), tqdm)


def test_on_a_terminal_a_bar_is_drawn_unless_verbosity_is_zero():
    bar = progress([1, 2], command=FakeCommand(tty=True))
    assert isinstance(bar, tqdm)
    bar.close()
    assert progress([1], command=FakeCommand(tty=True), verbosity=0) == [1]
    counter = progress_counter(command=FakeCommand(tty=True), total=3)
    assert isinstance(counter, tqdm)
    counter.close()
