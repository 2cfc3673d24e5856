"""The index is written after commit; a test's transaction never commits, so each test runs
the after-commit handlers of what it makes inside `committed()` (as a real request would)."""

from __future__ import annotations

import pytest


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...` runs the on-commit callbacks (the index's handlers) at its end."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run
