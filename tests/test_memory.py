"""base/memory.py: the objects a run keeps are set aside from the cyclic collector only while
the run lasts, and only inside a run (collect's), never for a library caller."""
from __future__ import annotations

import gc
import weakref

from kcl_xlsx.base.memory import keep_long_lived, long_lived_objects


class _Node:
    pass


def _cycle() -> weakref.ref:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_set_aside_during_the_run_and_handed_back_after_it():
    gc.collect()
    assert gc.get_freeze_count() == 0
    with long_lived_objects():
        assert gc.get_freeze_count() > 0  # what was loaded before the run: set aside at once
        kept = _cycle()  # a cycle dropped during the run...
        keep_long_lived()
        gc.collect()
        assert kept() is not None  # ...waits while set aside
        with long_lived_objects():  # a run inside a run (collect inside reissue): one setting aside
            pass
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert kept() is None  # and is collected once the run is over


def test_outside_a_run_nothing_is_set_aside():
    gc.collect()
    keep_long_lived()
    assert gc.get_freeze_count() == 0
    dropped = _cycle()
    gc.collect()
    assert dropped() is None


def test_a_failing_run_hands_everything_back():
    try:
        with long_lived_objects():
            raise KeyError("x")
    except KeyError:
        pass
    assert gc.get_freeze_count() == 0
