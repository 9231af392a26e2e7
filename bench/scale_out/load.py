"""The load on a county's stack, over HTTP through the load balancer, in the callers' own
wire formats: Safaricom's paybill confirmations (Daraja's JSON, sent again on any failure
as Daraja does), Africa's Talking's USSD steps (its form; a failed step is sent once
more, as a caller's handset would) and application lifecycles over the API
(bench/applications/lifecycle.py). No Django here."""

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode

from bench.applications.lifecycle import Refused, Tokens, confirmation, lifecycle
from bench.applications.lifecycle import Results as LifecycleResults
from bench.common import Connection

CONFIRMATION_ATTEMPTS = 12  # Daraja keeps trying for a while; we give up after these
USSD_CODE = "*000*18#"


@dataclass
class PaybillResults:
    acknowledged: list[str] = field(default_factory=list)
    given_up: list[str] = field(default_factory=list)
    posts: int = 0
    resent: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0


async def paybill(
    *, port: int, token: str, trans_ids: list[str], bills: list[str], clients: int
) -> PaybillResults:
    """Post each confirmation until it is acknowledged (ResultCode 0), as Daraja does."""
    results = PaybillResults()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(trans_ids)):
        queue.put_nowait(index)
    path = f"/payments/mpesa/c2b/confirmation/{token}/"

    async def client() -> None:
        connection = Connection(port)
        while not queue.empty():
            index = queue.get_nowait()
            trans_id = trans_ids[index]
            body = confirmation(trans_id, bills[index % len(bills)], "10.00")
            for attempt in range(CONFIRMATION_ATTEMPTS):
                if attempt:
                    results.resent += 1
                    await asyncio.sleep(min(0.2 * attempt, 1.0))
                results.posts += 1
                try:
                    status, answer = await connection.request("POST", path, body=body)
                except (OSError, asyncio.IncompleteReadError, EOFError) as exc:
                    connection.close()
                    results.failures[type(exc).__name__] += 1
                    continue
                if status == 200 and json.loads(answer).get("ResultCode") == 0:
                    results.acknowledged.append(trans_id)
                    break
                results.failures[f"HTTP {status}"] += 1
            else:
                results.given_up.append(trans_id)
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    results.elapsed = time.perf_counter() - started
    return results


@dataclass
class UssdResults:
    sessions: int = 0
    completed: int = 0
    steps: int = 0
    retried_steps: int = 0
    broken: Counter[str] = field(default_factory=Counter)


def ussd_form(session_id: str, phone: str, inputs: list[str]) -> bytes:
    return urlencode(
        {
            "sessionId": session_id,
            "serviceCode": USSD_CODE,
            "phoneNumber": phone,
            "networkCode": "63902",
            "text": "*".join(inputs),
        }
    ).encode()


async def ussd_step(
    connection: Connection, path: str, body: bytes, results: UssdResults
) -> str | None:
    """One step, sent once more if it fails (a handset's retry); None if both fail."""
    for attempt in range(2):
        if attempt:
            results.retried_steps += 1
        results.steps += 1
        try:
            status, answer = await connection.request(
                "POST", path, body=body, content_type="application/x-www-form-urlencoded"
            )
        except (OSError, asyncio.IncompleteReadError, EOFError):
            connection.close()
            continue
        if status == 200:
            return answer.decode()
    return None


async def ussd(
    *, port: int, token: str, sessions: int, bills: list[str], clients: int, first_phone: int
) -> UssdResults:
    """Callers walk "pay a bill" to the bill's screen: dial, English, 1 (pay a bill), the
    bill number. The last screen shows the bill only if the session kept its state."""
    results = UssdResults()
    path = f"/ussd/africastalking/?token={token}"
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(sessions):
        queue.put_nowait(index)

    async def client() -> None:
        connection = Connection(port)
        while not queue.empty():
            index = queue.get_nowait()
            results.sessions += 1
            phone = f"+2547{first_phone + index:08d}"
            session_id = f"ATUid_scale_out_{first_phone}_{index}"
            bill = bills[index % len(bills)]
            inputs: list[str] = []
            screen: str | None = ""
            for answer in ["", "1", "1", bill]:
                if answer:
                    inputs.append(answer)
                screen = await ussd_step(
                    connection, path, ussd_form(session_id, phone, inputs), results
                )
                if screen is None:
                    results.broken["a step failed twice"] += 1
                    break
                if not screen.startswith("CON "):
                    results.broken[screen[:60]] += 1
                    break
            else:
                if screen and bill in screen:
                    results.completed += 1
                else:
                    results.broken[f"last screen: {(screen or '')[:60]}"] += 1
        connection.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return results


async def lifecycles(
    *,
    port: int,
    token: str,
    tokens: Tokens,
    first: int,
    count: int,
    clients: int,
    payment_timeout: float = 120.0,
) -> tuple[LifecycleResults, float]:
    results = LifecycleResults()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(first, first + count):
        queue.put_nowait(number)

    async def client() -> None:
        connection = Connection(port)
        while not queue.empty():
            number = queue.get_nowait()
            try:
                await lifecycle(
                    connection,
                    number,
                    tokens,
                    results,
                    token=token,
                    payment_timeout=payment_timeout,
                )
            except (Refused, OSError, TimeoutError, EOFError, KeyError, ValueError) as exc:
                connection.close()
                results.failed[str(exc)[:80] or type(exc).__name__] += 1
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return results, time.perf_counter() - started
