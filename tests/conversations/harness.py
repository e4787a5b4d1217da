"""Run work on many threads at once, round after round, each thread with its own database connection."""

import threading

from django.db import connection


def run_rounds(work, *, threads: int, rounds: int, timeout: float = 120) -> list[list]:
    """Call work(thread, round) on `threads` threads released together by a barrier each round.

    Returns results[round][thread]. An exception in a thread is re-raised here, never swallowed.
    """
    barrier = threading.Barrier(threads)
    results = [[None] * threads for _ in range(rounds)]
    errors: list = []

    def run(index):
        try:
            for round_ in range(rounds):
                barrier.wait(timeout=timeout)
                results[round_][index] = work(index, round_)
        except Exception as error:  # reported below
            errors.append(error)
            barrier.abort()
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=timeout * rounds)
    real = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
    assert not real, real
    assert not errors, errors
    return results
