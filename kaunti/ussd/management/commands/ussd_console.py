"""Play a USSD session in the terminal, as a phone would, over the real HTTP endpoint.

    manage.py ussd_console --phone 0712345678 [--url http://127.0.0.1:8000]

Without `--url` it calls the server `make run` is serving (whatever its PORT), else
`SITE_URL`.

Each line typed is one answer; the form posted is exactly what Africa's Talking posts
(`sessionId`, `serviceCode`, `phoneNumber`, `networkCode`, `text` with every answer so
far joined by "*"), so support staff and demos see what a caller sees. The session ends
at the server's "END" screen, or at the end of input.
"""

import sys
import uuid
from pathlib import Path
from typing import Any, TextIO

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kaunti.core.identifiers import as_e164
from kaunti.simulators.africastalking import ussd_form

USSD_PATH = "/ussd/africastalking/"


def default_server_url() -> str:
    """The address `make run` wrote when it started serving, else `SITE_URL`."""
    run_url_file = Path(settings.RUN_URL_FILE)
    if run_url_file.is_file():
        written = run_url_file.read_text(encoding="utf-8").strip()
        if written.startswith(("http://", "https://")):
            return written
    return str(settings.SITE_URL)


class Command(BaseCommand):
    help = "Play a USSD session in the terminal against a running Kaunti server."
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--phone", required=True, help="the caller's number, e.g. 0712345678")
        parser.add_argument(
            "--url",
            default="",
            help="the server (default: the one `make run` serves, else SITE_URL)",
        )
        parser.add_argument("--service-code", default="*000*18#", help="the code dialled")
        parser.add_argument("--network", default="63902", help="network code (63902 Safaricom)")
        parser.add_argument("--token", default="", help="AFRICASTALKING_CALLBACK_TOKEN, if set")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            phone = as_e164(options["phone"])
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from exc
        stdin: TextIO = options.get("stdin") or sys.stdin
        url = (options["url"] or default_server_url()).rstrip("/") + USSD_PATH
        params = {"token": options["token"]} if options["token"] else {}
        session_id = f"console-{uuid.uuid4().hex}"
        answers: list[str] = []
        self.stdout.write(f"Dialling {options['service_code']} from {phone} ({url})")
        with httpx.Client(timeout=20.0) as client:
            while True:
                form = ussd_form(
                    session_id=session_id,
                    phone_number=phone,
                    text="*".join(answers),
                    service_code=options["service_code"],
                    network_code=options["network"],
                )
                try:
                    response = client.post(url, data=form, params=params)
                except httpx.HTTPError as exc:
                    raise CommandError(f"the server did not answer: {exc}") from exc
                if response.status_code != 200:
                    raise CommandError(f"the server answered HTTP {response.status_code}")
                screen = response.text
                kind, _, body = screen.partition(" ")
                self.stdout.write("")
                self.stdout.write(body)
                if kind != "CON":
                    self.stdout.write("[session ended]")
                    return
                self.stdout.write("> ", ending="")
                self.stdout.flush()
                line = stdin.readline()
                if not line:
                    self.stdout.write("")
                    self.stdout.write("[no more input: session left]")
                    return
                answers.append(line.strip())
