from collections.abc import Iterable, Iterator
from itertools import islice


def batched(iterable: Iterable, size: int) -> Iterator[tuple]:
    """itertools.batched (Python 3.12+) for Python 3.11: successive tuples of at most `size` items."""
    if size < 1:
        raise ValueError("size must be at least 1")
    iterator = iter(iterable)
    while batch := tuple(islice(iterator, size)):
        yield batch
