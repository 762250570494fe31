"""The pipeline_cpu setting (gateway.affinity): threads running the pipeline kept on one CPU."""

from __future__ import annotations

import os
import threading

import pytest

from gateway import affinity, samples
from gateway.auth.policy import Party
from gateway.pipeline import Pipeline, build_components
from gateway.settings import Settings
from validators.beside import beside

CPUS = sorted(os.sched_getaffinity(0))


def test_off_pins_nothing_and_auto_takes_the_last_cpu():
    assert affinity.resolve("off") is None
    assert affinity.resolve(None) is None
    assert affinity.resolve("auto") == (CPUS[-1] if len(CPUS) > 1 else None)
    if len(CPUS) > 1:
        assert affinity.resolve(str(CPUS[0])) == CPUS[0]
    with pytest.raises(ValueError, match="may run on CPUs"):
        affinity.resolve(str(max(CPUS) + 1 if len(CPUS) > 1 else 10_000))


def _in_thread(fn):
    out: list = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]


@pytest.mark.parametrize("setting", ["auto", "off"])
def test_a_thread_that_runs_the_pipeline_is_kept_on_the_cpu(tmp_path, setting):
    pipeline = Pipeline(build_components(Settings(data_dir=tmp_path, hmac_secret="x", pipeline_cpu=setting)))
    try:
        def judge():
            outcome = pipeline.process(samples.request("ijw"), Party(samples.AANBIEDER, "aanbieder"))
            # a thread started from a pinned one (a large declaration's schema check beside its
            # rows) runs on every CPU again
            wide, _ = beside(lambda: os.sched_getaffinity(0), lambda: None)
            return outcome.verdict, os.sched_getaffinity(0), wide

        before = os.sched_getaffinity(0)
        verdict, cpus, wide = _in_thread(judge)
        assert verdict == "accepted"
        expected = affinity.resolve(setting)
        assert cpus == ({expected} if expected is not None else set(CPUS))
        assert wide == set(CPUS)
        assert os.sched_getaffinity(0) == before  # only the thread that ran it
    finally:
        pipeline.c.store.close()
