"""One application's lifecycle over the API, as a citizen, Safaricom and three officers
do it: shared by bench/applications (lifecycles per second) and bench/scale_out (two app
nodes behind a load balancer). No Django here: only HTTP."""

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.common import Connection, multipart, multipart_files

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
WARDS = ["0441", "0445", "0449", "0453", "0455", "0458", "0462", "0464"]
CATEGORIES = ["small-shop", "salon-barber-tailor", "medium-trader", "hawker-motorcycle"]

PAYMENT_POLL_SECONDS = 0.2  # between status reads while the payment is being recorded
PAYMENT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Tokens:
    """The people's API keys, kept in `TOKENS_FILE`: the database holds only digests."""

    citizens: list[str]
    citizen_usernames: list[str]  # of `citizens`, in the same order
    approvers: list[str]
    health_inspectors: list[str]
    fire_inspectors: list[str]

    def citizen_key(self, username: str) -> str:
        return self.citizens[self.citizen_usernames.index(username)]


@dataclass
class Results:
    completed: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    durations: list[float] = field(default_factory=list)
    requests: int = 0
    payment_polls: int = 0
    payment_waits: list[float] = field(default_factory=list)


# --- One lifecycle ---------------------------------------------------------------------------


class Refused(Exception):
    """A step of the lifecycle got an answer it should not have."""


def confirmation(trans_id: str, bill_number: str, amount: str) -> bytes:
    """What Safaricom (and the Daraja simulator) POSTs to the C2B confirmation URL."""
    return json.dumps(
        {
            "TransactionType": "Pay Bill",
            "TransID": trans_id,
            "TransTime": time.strftime("%Y%m%d%H%M%S"),
            "TransAmount": amount,
            "BusinessShortCode": "600638",
            "BillRefNumber": bill_number,
            "InvoiceNumber": "",
            "OrgAccountBalance": "",
            "ThirdPartyTransID": "",
            "MSISDN": "2547 ***** 126",
            "FirstName": "John",
            "MiddleName": "",
            "LastName": "Doe",
        }
    ).encode()


async def lifecycle(
    connection: Connection,
    number: int,
    tokens: Tokens,
    results: Results,
    *,
    token: str,
    payment_timeout: float = PAYMENT_TIMEOUT_SECONDS,
    separate_calls: bool = False,
) -> None:
    rng = random.Random(number)  # noqa: S311  (load shape, not security)

    async def call(
        method: str,
        url: str,
        token: str | None,
        expect: int,
        *,
        payload: object = None,
        body: bytes = b"",
        content_type: str = "application/json",
    ) -> dict:
        if payload is not None:
            body = json.dumps(payload).encode()
        status, answer = await connection.request(
            method, url, body=body, content_type=content_type, token=token
        )
        results.requests += 1
        if status != expect:
            raise Refused(f"{method} {url.split('/api/v1')[-1][:40]} -> {status}")
        return json.loads(answer) if answer else {}

    citizen = tokens.citizens[number % len(tokens.citizens)]
    approver = tokens.approvers[number % len(tokens.approvers)]
    health = tokens.health_inspectors[number % len(tokens.health_inspectors)]
    fire = tokens.fire_inspectors[number % len(tokens.fire_inspectors)]
    started = time.perf_counter()
    answers = {
        "application_type": "new",
        "business_name": f"Bench Business {number}",
        "category": rng.choice(CATEGORIES),
        "employees": str(rng.randint(1, 5)),
        "kra_pin": "A012345678B",
        "premises_ward": rng.choice(WARDS),
        "premises_location": f"Plot {number}, market street",
        "owner_national_id": "22334455",
        "contact_phone": "0712 000 111",
    }
    if separate_calls:  # the five calls a client made before the one-call start existed
        created = await call(
            "POST",
            "/api/v1/applications/",
            citizen,
            201,
            payload={"service": "unified-business-permit"},
        )
        application = f"/api/v1/applications/{created['reference']}/"
        await call("PATCH", application, citizen, 200, payload={"answers": answers})
        for kind in ("id_copy", "kra_certificate"):
            form, form_type = multipart(
                {"kind": kind}, "file", f"{kind}.pdf", PDF, "application/pdf"
            )
            await call(
                "POST", f"{application}documents/", citizen, 201, body=form, content_type=form_type
            )
        submitted = await call("POST", f"{application}submit/", citizen, 200, payload={})
    else:  # one call: the draft, its answers, both documents and the submission
        form, form_type = multipart_files(
            {
                "service": "unified-business-permit",
                "answers": json.dumps(answers),
                "submit": "true",
            },
            {
                kind: (f"{kind}.pdf", PDF, "application/pdf")
                for kind in ("id_copy", "kra_certificate")
            },
        )
        submitted = await call(
            "POST", "/api/v1/applications/", citizen, 201, body=form, content_type=form_type
        )
        if submitted["errors"] or submitted["status"] != "submitted":
            raise Refused(f"one-call start -> {submitted['errors'] or submitted['status']}")
        application = f"/api/v1/applications/{submitted['reference']}/"
    acknowledged = await call(
        "POST",
        f"/payments/mpesa/c2b/confirmation/{token}/",
        None,
        200,
        body=confirmation(f"BA{number:08d}", submitted["bill_number"], submitted["fee_total"]),
    )
    if acknowledged.get("ResultCode") != 0:
        raise Refused(f"confirmation -> {acknowledged}")
    # The confirmation is answered once stored; a Celery worker records it (ADR 7). Poll
    # the status as the citizen's page would until the payment has opened the review.
    paid_from = time.perf_counter()
    deadline = paid_from + payment_timeout
    while True:
        await asyncio.sleep(PAYMENT_POLL_SECONDS)
        results.payment_polls += 1
        status = await call("GET", application, citizen, 200)
        if status["status"] != "submitted":  # "Submitted, awaiting payment"
            break
        if time.perf_counter() > deadline:
            raise Refused(f"payment not recorded after {payment_timeout:.0f} s")
    results.payment_waits.append(time.perf_counter() - paid_from)
    steps = f"{application}steps/"
    await call("POST", f"{steps}review/approve/", approver, 200, payload={})
    await call("POST", f"{steps}inspection-health/inspect/", health, 200, payload={"passed": True})
    await call("POST", f"{steps}inspection-fire/inspect/", fire, 200, payload={"passed": True})
    await call("POST", f"{steps}approval/approve/", approver, 200, payload={})
    status = await call("GET", application, citizen, 200)
    if status["status"] != "issued" or not status["issued_document_number"]:
        raise Refused(f"status {status['status']}")
    results.durations.append(time.perf_counter() - started)
    results.completed += 1
