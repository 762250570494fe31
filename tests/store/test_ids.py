"""Message ids (gateway.store.ids): random bits read from the kernel in blocks."""

from __future__ import annotations

import os

import pytest

from gateway.store import ids


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_does_not_repeat_the_parents_random_bits() -> None:
    ids.random_bytes(1)  # a block is read: the child inherits what is left of it
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next random bytes, to the parent
        try:
            os.write(write, ids.random_bytes(16))
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 16)
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 16
    assert ids.random_bytes(16) != child


def test_ids_increase_and_differ() -> None:
    made = [ids.new_id() for _ in range(2000)]  # more than a block's worth of random bits
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert all(len(i) == 26 for i in made)
