"""Leaving a PostgreSQL pipeline raises the error that aborted it, not psycopg's PipelineAborted
raised in its stead (prepared.aborting_error): a unique violation must read as a conflict."""

from __future__ import annotations

import psycopg
import pytest

from gateway.store.prepared import aborting_error


def _left_pipeline(first: Exception) -> psycopg.Error:
    """What psycopg 3.3's pipeline exit raises when `first` came in before the answers it aborted:
    the PipelineAborted of its `finally`, with `first` as its context."""
    try:
        try:
            raise first
        finally:
            raise psycopg.errors.PipelineAborted("pipeline aborted")
    except psycopg.Error as raised:
        return raised


def test_the_first_error_is_the_one_that_aborted_the_pipeline():
    violation = psycopg.errors.UniqueViolation("duplicate key value violates unique constraint")
    raised = _left_pipeline(violation)
    assert isinstance(raised, psycopg.errors.PipelineAborted)
    assert aborting_error(raised) is violation


@pytest.mark.parametrize("raised", [
    psycopg.errors.PipelineAborted("pipeline aborted"),  # nothing before it: as it is
    psycopg.errors.UniqueViolation("no pipeline involved"),
    psycopg.OperationalError("server closed the connection"),
])
def test_other_errors_are_left_as_they_are(raised):
    assert aborting_error(raised) is raised


def test_an_error_of_ours_before_the_abort_is_not_taken_for_the_databases():
    try:
        try:
            raise KeyError("ours")
        finally:
            raise psycopg.errors.PipelineAborted("pipeline aborted")
    except psycopg.Error as raised:
        assert aborting_error(raised) is raised
