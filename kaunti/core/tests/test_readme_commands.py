"""README's commands work as written, from a shell with nothing set (a new user's), and
`make run`'s port reaches the links and QR codes the server writes."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

README = Path(settings.BASE_DIR) / "README.md"
# What a new user's shell has: none of the settings `make test` exports.
UNSET = ("DEBUG", "KAUNTI_TESTING", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SITE_URL", "PORT")


def bare_environment(**extra: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if key not in UNSET}
    return {**environment, **extra}


def readme_command(name: str) -> str:
    """The README's command (in backticks, maybe across a line break) running `name`."""
    text = " ".join(README.read_text(encoding="utf-8").split())
    [command] = set(re.findall(r"`([^`]*manage\.py " + name + r"[^`]*)`", text))
    return command


@pytest.mark.parametrize("name", ["demo_totp", "ussd_console"])
def test_readme_s_command_starts_as_written(name: str) -> None:
    command = readme_command(name).replace("<username>", "admin")
    finished = subprocess.run(  # noqa: S603  (the README's own command, no user input)
        ["bash", "-c", command + " --help"],  # noqa: S607
        cwd=settings.BASE_DIR,
        env=bare_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (finished.returncode, finished.stderr) == (0, "")
    assert finished.stdout.startswith("usage: manage.py " + name)


def test_site_url_follows_the_port_served_on() -> None:
    printed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; from django.conf import settings; "
            "django.setup(); print(settings.SITE_URL, settings.DEBUG)",
        ],
        cwd=settings.BASE_DIR,
        env=bare_environment(DEBUG="1", PORT="8123", DJANGO_SETTINGS_MODULE="kaunti.settings"),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert printed == "http://127.0.0.1:8123 True\n"
