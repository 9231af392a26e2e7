"""Fixtures for the kernel's tests: the Africa's Talking simulator, sent SMS, staff sign-in.

The kernel is the lowest tier, so its tests may not import kaunti.accounts, nor
kaunti/conftest.py (which does; import-linter follows the chain). Fixtures defined there
(`make_staff`, `citizen`, `sms_file`) arrive by name as usual; the plain helpers it
defines, and accounts' permission checker, are looked up by dotted path until
kaunti/conftest.py offers them as fixtures and AccountsConfig.ready() registers the
checker.
"""

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils.module_loading import import_string

from kaunti.core import permissions
from kaunti.simulators.africastalking import AfricasTalkingSimulator

AT_USERNAME = "kaunti018"
AT_API_KEY = "test-africastalking-key"


@pytest.fixture
def at_gateway() -> Iterator[AfricasTalkingSimulator]:
    """A local Africa's Talking gateway on a free port, stopped after the test."""
    with AfricasTalkingSimulator(username=AT_USERNAME, api_key=AT_API_KEY) as gateway:
        yield gateway


@pytest.fixture
def africastalking_sms(
    settings: Any, at_gateway: AfricasTalkingSimulator
) -> AfricasTalkingSimulator:
    """Send the outbox's SMS through the real Africa's Talking backend to the simulator."""
    settings.SMS_BACKEND = "africastalking"
    settings.AFRICASTALKING_USERNAME = AT_USERNAME
    settings.AFRICASTALKING_API_KEY = AT_API_KEY
    settings.AFRICASTALKING_BASE_URL = at_gateway.base_url
    settings.SMS_SENDER_ID = ""
    return at_gateway


@pytest.fixture
def sent_sms(sms_file: Path) -> Callable[[], list[dict[str, str]]]:
    """What the file SMS backend (the default in tests) has written so far."""

    def read() -> list[dict[str, str]]:
        if not sms_file.exists():
            return []
        return [json.loads(line) for line in sms_file.read_text().splitlines() if line.strip()]

    return read


@pytest.fixture
def staff_permissions() -> Iterator[None]:
    """Let accounts decide who may do what, as AccountsConfig.ready() is to register it."""
    checker = import_string("kaunti.accounts.permissions.has_permission")
    was_registered = permissions.registry.is_registered(checker)
    permissions.register_permission_checker(checker)
    yield
    if not was_registered:
        permissions.registry.unregister(checker)


@pytest.fixture
def sign_in_staff() -> Callable[[Client, Any], None]:
    """kaunti/conftest.py's `sign_in_staff`: password then TOTP, through the real pages."""
    helper: Callable[[Client, Any], None] = import_string("kaunti.conftest.sign_in_staff")
    return helper
