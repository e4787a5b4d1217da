import pytest

from lib.batching import batched


def test_it_yields_full_batches_then_the_rest():
    assert list(batched(range(5), 2)) == [(0, 1), (2, 3), (4,)]
    assert list(batched([], 3)) == []


def test_it_refuses_a_size_below_one():
    with pytest.raises(ValueError, match="at least 1"):
        list(batched([1], 0))
