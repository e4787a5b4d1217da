from collections.abc import Callable


class ComputedDict(dict):
    """A dict that computes a missing value once with `function(key)` and keeps it.

    For hot loops that see the same keys again and again (timestamps, name keys): a lookup is cheaper than
    recomputing, and cheaper than functools.cache's wrapper.
    """

    def __init__(self, function: Callable):
        super().__init__()
        self.function = function

    def __missing__(self, key):
        value = self[key] = self.function(key)
        return value
