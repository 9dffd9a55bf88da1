"""The CPU gate (``Database.cpu_gate``): a first-come, first-served lock for long stretches of Python.

Why it exists is in ``app.store.db``'s docstring: each statement of a group's transaction gives up the
GIL and must get it back, which with signing running in another thread took up to the 5 ms switch
interval each time, while SQLite's write lock was held. Signing runs under the gate; the group committer
holds it for its transaction, ahead of every waiting signer.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["CpuGate"]


class CpuGate:
    """A first-come, first-served lock taken by long stretches of Python and by the group committer
    (module docstring), which goes ahead of every waiting signer.

    ``threading.Lock`` wakes an arbitrary waiter: with eight requests queued, an unlucky one waited
    for many others and made the latency's tail. Here the lock is handed to the oldest waiter. It
    knows which thread holds it, so ``Database.grouped`` can refuse to wait for a commit from under
    it (the committer would wait for the gate, the holder for the committer).
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._taken = False
        self._owner: int | None = None
        self._waiting: deque[threading.Lock] = deque()
        self._urgent: deque[threading.Lock] = deque()

    def acquire(self, *, urgent: bool = False) -> None:
        with self._mutex:
            if not self._taken:
                self._taken = True
                self._owner = threading.get_ident()
                return
            turn = threading.Lock()
            turn.acquire()
            (self._urgent if urgent else self._waiting).append(turn)
        turn.acquire()  # released by the holder that hands the gate over
        self._owner = threading.get_ident()

    def release(self) -> None:
        with self._mutex:
            self._owner = None
            queue_ = self._urgent or self._waiting
            if queue_:
                queue_.popleft().release()  # stays taken: the next holder has it
            else:
                self._taken = False

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    @contextmanager
    def urgent(self) -> Iterator[None]:
        """Held ahead of every waiter that is not urgent itself."""
        self.acquire(urgent=True)
        try:
            yield
        finally:
            self.release()

    def held(self) -> bool:
        return self._owner == threading.get_ident()
