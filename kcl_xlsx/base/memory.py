"""Give freed memory back to the system between the big stages of a summary.

A national roll-up frees 360 MB of per-office column arrays once they are concatenated, but
glibc keeps them: its mmap threshold rises to the size of the chunks freed (up to 32 MB), so
the arrays of a few hundred KB were heap memory, and the next stage's larger arrays are
mapped afresh instead of reusing it.  ``malloc_trim(0)`` returns the free pages (measured:
RSS 1,057 -> 699 MiB after the concatenation).  Elsewhere (macOS, musl, Windows) this does
nothing.

Arrow (the export, pandas' text columns) allocates from its own pool (mimalloc), which keeps
what it frees for its next allocations: it is asked to give it back too.

The objects a run keeps to its end are also set aside from Python's cyclic collector while
it runs (:func:`long_lived_objects`).
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import sys


@functools.lru_cache(maxsize=1)
def _trim():
    # Looked up among the process's own symbols (libc's are there), not by
    # ctypes.util.find_library: that runs ldconfig in a child process, forked when the summary
    # first gives memory back, from a process holding a gigabyte at national scale, and the
    # child's RSS counts that gigabyte again (measured: a child of 1,086 MiB in bench_collect).
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):  # no malloc_trim (macOS, musl); Windows
        return None


def release_freed_memory() -> None:
    trim = _trim()
    if trim is not None:
        trim(0)
    arrow = sys.modules.get("pyarrow")  # only if something has used it: never imported for this
    if arrow is not None:
        arrow.default_memory_pool().release_unused()


# --------------------------------------------------------------------------- the cyclic collector

_frozen_depth = 0


@contextlib.contextmanager
def long_lived_objects():
    """A command's run, during which :func:`keep_long_lived` may set the objects made so far
    aside from Python's cyclic garbage collector (``gc.freeze``); all are handed back to it
    at the end (``gc.unfreeze``).  A daily re-run holds ~260,000 objects that live until it
    ends (the modules, every known file's submission and issues), and
    each full collection walked them all again to find nothing: six of them took 0.38 s of a
    6.5 s re-run at 10,000 plans (measured with gc.callbacks).  Reference counting still frees
    what is no longer used; only cycles among the set-aside objects wait for the end."""
    global _frozen_depth
    _frozen_depth += 1
    try:
        keep_long_lived()
        yield
    finally:
        _frozen_depth -= 1
        if not _frozen_depth:
            gc.unfreeze()


def keep_long_lived() -> None:
    """Inside :func:`long_lived_objects`: the objects made so far are set aside from the
    cyclic collector (call it once a stage has built what the rest of the run keeps).
    Outside it, nothing: a library caller's objects stay the collector's."""
    if _frozen_depth:
        gc.freeze()
