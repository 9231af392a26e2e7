"""Shared fixtures: a clean cache per test, SMS to a file, reference data, people by role."""

import json
import os
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import factory
import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.test import Client
from django.utils import translation
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, sync_playwright

from kaunti.accounts.models import User
from kaunti.accounts.tests.factories import STAFF_PASSWORD, CitizenFactory, StaffFactory
from kaunti.core.models import Department
from kaunti.core.reference_data import load_reference_data
from kaunti.payments.locks import ALONE, RANK, lock_taken_by


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fuzz: generated requests over the whole API (about a minute; runs in CI)"
    )


@pytest.fixture(autouse=True)
def _clean_cache() -> Iterator[None]:
    """Rate limits and cached names live in the cache (Redis in CI): start each test empty."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the default language: a request in Kiswahili (LocaleMiddleware
    activates it for the thread) must not change what a later test's services say."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def sms_file(tmp_path: Path, settings: Any) -> Path:
    """Every SMS goes to a file the test can read, never to a network."""
    path = tmp_path / "sms.jsonl"
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(path)
    return path


def read_sms(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class LockOrderWatch:
    """Watches every statement of the test's connection and fails one that takes a money-path
    lock of an earlier rank than one its transaction already holds (ADR 16), or any lock in
    the same transaction as the audit chain's sequencer, which holds nothing else (ADR 19).

    A transaction here is the outermost atomic block the code under test opened: the
    test's own blocks (pytest-django wraps each test in two) are below `base_depth`.
    """

    def __init__(self, base_depth: int) -> None:
        self.base_depth = base_depth
        self.block: object | None = None
        self.held: list[str] = []
        self.violations: list[str] = []
        self.places: list[str] = []  # the code that took each lock out of order

    @contextmanager
    def each_block_inside(self, levels: int = 1) -> Iterator[None]:
        """Watch each atomic block opened `levels` deep inside the current one as a
        transaction of its own: for a test that runs many operations in one savepoint, to
        roll them back together (levels=1), or code that does so itself (the demo history:
        one transaction, each event a block inside it; levels=2)."""
        base_depth = self.base_depth
        self.base_depth = len(connections["default"].atomic_blocks) + levels - 1
        try:
            yield
        finally:
            self.base_depth = base_depth

    def forget(self) -> None:
        """Clear what it found: for a test that crossed on purpose."""
        self.violations.clear()
        self.places.clear()

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        lock = lock_taken_by(sql)
        if lock is not None:
            self._taken(lock.name, context["connection"])
        return execute(sql, params, many, context)

    def _taken(self, name: str, connection: Any) -> None:
        blocks = connection.atomic_blocks
        block = blocks[self.base_depth] if len(blocks) > self.base_depth else None
        if block is None or block is not self.block:
            self.block, self.held = block, []
        if name in self.held:
            return  # more rows of a kind it holds: their order within the kind is its own
        holding = " -> ".join(self.held)
        later = [held for held in self.held if RANK[held] > RANK[name]]
        alone = [held for held in self.held if held in ALONE or name in ALONE]
        if later:
            self.violations.append(f"{name!r} taken after {later[0]!r} (held: {holding})")
            self.places.append(_calling_code())
        elif alone:
            # The audit sequencer holds nothing else, and nothing is taken while it is held.
            self.violations.append(f"{name!r} taken in one transaction with {alone[0]!r}")
            self.places.append(_calling_code())
        self.held.append(name)


def _calling_code() -> str:
    """Where the code under test took a lock: its innermost frames, innermost first."""
    frames = [
        f"{frame.filename.rsplit('/kaunti/', 1)[-1]}:{frame.lineno} {frame.name}"
        for frame in traceback.extract_stack()
        if "/kaunti/" in frame.filename
        and "/tests/" not in frame.filename
        and not frame.filename.endswith("conftest.py")
    ]
    return " < ".join(reversed(frames[-4:]))


@pytest.fixture(autouse=True)
def lock_order(request: pytest.FixtureRequest) -> Iterator[LockOrderWatch]:
    """On PostgreSQL, every test that uses the database also checks the lock order (ADR 16).
    A test may ask for the watch: elsewhere it is there too, and sees nothing."""
    connection = connections["default"]
    if not (
        "_django_db_helper" in request.fixturenames
        or request.node.get_closest_marker("django_db") is not None
    ):
        yield LockOrderWatch(base_depth=0)
        return
    request.getfixturevalue("_django_db_helper")
    watch = LockOrderWatch(base_depth=len(connection.atomic_blocks))
    if connection.vendor != "postgresql":
        yield watch
        return
    with connection.execute_wrapper(watch):
        yield watch
    assert not watch.violations, "money-path locks taken out of order (ADR 16):\n" + "\n".join(
        f"{violation}\n  at {place}"
        for violation, place in zip(watch.violations, watch.places, strict=True)
    )


def _factories(base: type[factory.base.BaseFactory]) -> Iterator[type[factory.base.BaseFactory]]:
    for subclass in base.__subclasses__():
        yield subclass
        yield from _factories(subclass)


@pytest.fixture(autouse=True)
def _factory_sequences() -> None:
    """Every factory counts from the start in each test: the parcel numbers, phones and
    usernames a test reads back do not depend on which tests ran before it."""
    for kind in _factories(factory.base.BaseFactory):
        if kind._meta.counter_reference is kind._meta:
            kind.reset_sequence()


@pytest.fixture
def reference_data(db: None) -> None:
    load_reference_data(county_code=settings.COUNTY_CODE)


@pytest.fixture
def department(reference_data: None) -> Callable[[str], Department]:
    return lambda code: Department.objects.get(code=code)


@pytest.fixture
def make_staff(reference_data: None) -> Callable[..., User]:
    """`StaffFactory` once the departments exist: `make_staff(roles, department="revenue")`."""

    def make(roles: list[str], department: str = "revenue", superuser: bool = False) -> User:
        return StaffFactory.create(roles=roles, department=department, superuser=superuser)

    return make


def current_totp(user: User) -> str:
    device = TOTPDevice.objects.get(user=user)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def sign_in_staff(client: Client, user: User) -> None:
    """Sign a staff member in through the real two-step pages."""
    response = client.post(
        "/staff/sign-in/", {"username": user.username, "password": STAFF_PASSWORD}
    )
    assert response.status_code == 302, response.content[:500]
    response = client.post("/staff/sign-in/code/", {"token": current_totp(user)})
    assert response.status_code == 302, response.content[:500]


@pytest.fixture
def citizen(db: None) -> User:
    return CitizenFactory.create(phone="254712000111", full_name="Wanjiku Kamau")


# --- The browser tests ----------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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


@pytest.fixture
def browser(chromium_path: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    """Chromium driven by Playwright's sync API, which runs an event loop in this thread:
    Django's ORM calls made meanwhile (fixtures, assertions) are plain synchronous calls,
    but with a loop running, Django keeps their connections apart from the test's own."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # Close them while the loop still runs (they are out of reach once it stops):
            # left open, they keep the test database from being dropped at the end.
            connections.close_all()
