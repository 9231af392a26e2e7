"""Fixtures for the accounts tests: the Chromium the browser tests drive."""

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def chromium_path() -> str:
    """Debian's Chromium; skipped where it is missing, but a failure in CI (`CI=true`).

    CI must never pass by skipping the browser tests, so there a missing browser is an error.
    """
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return str(CHROMIUM)
    message = f"{CHROMIUM} is missing: apt-get install chromium"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)
