"""Two app nodes, one county: the check scripts/check-two-nodes.sh runs.

Starts, on loopback, two gunicorn nodes (gunicorn.conf.py, 2 workers each), two Celery
workers and one beat, sharing one fresh PostgreSQL database and one Redis, behind nginx
(plain HTTP) balancing the nodes. Checks that the nodes share what they must (a staff
session signed in on one node works on the other; the API's rate limit counts requests to
both; a USSD session goes on from one node to the other), then sends, all at once through
nginx, paybill confirmations (Daraja's JSON, sent again on failure as Daraja does), USSD
sessions (Africa's Talking's form; a failed step sent once more) and application
lifecycles over the API; in the middle, `kill -9` one node's whole process group and one
Celery worker. Then asserts: every confirmation recorded exactly once as a payment, by
TransID; no USSD session broken; the staff session still works on the surviving node;
the trial balance balances; `verify_audit` passes. Prints the figures; exits 1 on any
failure.

    .venv/bin/python bench/scale_out/check.py [--confirmations 600] [--ussd 120]
"""

import argparse
import asyncio
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import django
import redis

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.scale_out import load  # noqa: E402
from bench.scale_out.stack import REDIS, Stack, recreate_database, stack_env  # noqa: E402

MPESA_TOKEN = "two-nodes-mpesa-token-5c7e1a"  # noqa: S105  (a local check's path token)
AT_TOKEN = "two-nodes-at-token-" + "d" * 20
ANON_RATE = 30  # anonymous API requests a minute, for the shared rate limit check


class Checks:
    def __init__(self) -> None:
        self.failed: list[str] = []

    def expect(self, ok: bool, what: str) -> None:
        print(f"  {'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            self.failed.append(what)


# --- Cross-node checks (plain httpx, cookies by hand: one cookie jar for two nodes) -------


def staff_sign_in(port: int, username: str, password: str, totp_key: str) -> dict[str, str]:
    """Sign in on one node (password, then the authenticator's code); returns the cookies."""
    import httpx
    from django_otp.oath import totp

    cookies: dict[str, str] = {}

    def send(method: str, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        response = httpx.request(
            method,
            f"http://127.0.0.1:{port}{path}",
            data=data,
            headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
            timeout=20,
        )
        for name, value in response.cookies.items():
            cookies[name] = value
        return response

    page = send("GET", "/staff/sign-in/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert csrf, "no CSRF token on the sign-in page"
    step = send(
        "POST",
        "/staff/sign-in/",
        {"csrfmiddlewaretoken": csrf.group(1), "username": username, "password": password},
    )
    assert step.status_code == 302, f"password step answered {step.status_code}"
    page = send("GET", "/staff/sign-in/code/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert csrf, "no CSRF token on the code page"
    code = f"{totp(bytes.fromhex(totp_key)):06d}"
    step = send(
        "POST", "/staff/sign-in/code/", {"csrfmiddlewaretoken": csrf.group(1), "token": code}
    )
    assert step.status_code == 302, f"code step answered {step.status_code}"
    return cookies


def staff_home(port: int, cookies: dict[str, str]) -> int:
    import httpx

    response = httpx.get(
        f"http://127.0.0.1:{port}/staff/",
        headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
        timeout=20,
    )
    return response.status_code


def throttled_share(port_a: int, port_b: int) -> tuple[int, int]:
    """Anonymous API reads, alternating between the nodes: (answered 200, answered 429)."""
    import httpx

    statuses = [
        httpx.get(f"http://127.0.0.1:{port}/api/v1/wards/", timeout=20).status_code
        for _ in range(ANON_RATE // 2 + 5)
        for port in (port_a, port_b)
    ]
    return statuses.count(200), statuses.count(429)


async def ussd_across(port_a: int, port_b: int, bill: str) -> str | None:
    """One USSD session whose steps alternate between the nodes."""
    results = load.UssdResults()
    path = f"/ussd/africastalking/?token={AT_TOKEN}"
    inputs: list[str] = []
    screen = None
    for step, answer in enumerate(["", "1", "1", bill]):
        if answer:
            inputs.append(answer)
        connection = load.Connection(port_a if step % 2 == 0 else port_b)
        screen = await load.ussd_step(
            connection, path, load.ussd_form("ATUid_across", "+254733000001", inputs), results
        )
        connection.close()
    return screen


# --- Main ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database", default=os.environ.get("TWO_NODES_DATABASE", "kaunti_two_nodes")
    )
    parser.add_argument(
        "--cache-db", type=int, default=int(os.environ.get("TWO_NODES_CACHE_DB", "12"))
    )
    parser.add_argument(
        "--broker-db", type=int, default=int(os.environ.get("TWO_NODES_BROKER_DB", "13"))
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("TWO_NODES_PORT", "8510")))
    parser.add_argument("--confirmations", type=int, default=600)
    parser.add_argument("--ussd", type=int, default=120, help="USSD sessions")
    parser.add_argument("--lifecycles", type=int, default=24)
    parser.add_argument("--kill-after", type=float, default=4.0, help="seconds into the load")
    parser.add_argument("--drain-timeout", type=float, default=150.0)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    arguments = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="kaunti-two-nodes-"))
    env = stack_env(
        database=arguments.database,
        cache_db=arguments.cache_db,
        broker_db=arguments.broker_db,
        media=workdir / "media",
        mpesa_token=MPESA_TOKEN,
        at_token=AT_TOKEN,
    )
    env["API_THROTTLE_ANON"] = f"{ANON_RATE}/minute"
    env["STATIC_ROOT"] = str(workdir / "static")  # pages need the manifest (DEBUG off)
    for name in ("KAUNTI_TESTING", "DATABASE_REPLICA_URL"):
        os.environ.pop(name, None)
    os.environ.update(env)
    django.setup()
    from django.core.management import call_command

    from bench.scale_out.fixture import STAFF_PASSWORD, prepare

    port = arguments.port
    port_a, port_b = port + 1, port + 2
    print(f"== a fresh database {arguments.database}: migrate, a small county")
    started = time.perf_counter()
    recreate_database(arguments.database)
    for number in (arguments.cache_db, arguments.broker_db):
        redis.Redis.from_url(f"{REDIS}/{number}").flushdb()
    logging.getLogger("kaunti.eservices.services.catalogue_data").setLevel(logging.ERROR)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    call_command("collectstatic", interactive=False, verbosity=0)
    county = prepare()
    print(f"   ready in {time.perf_counter() - started:.0f} s")

    stack = Stack(env=env, workdir=workdir)
    checks = Checks()
    completed = False
    try:
        print(f"== two nodes (:{port_a}, :{port_b}), two Celery workers, beat, nginx :{port}")
        stack.start_node("node-a", port_a)
        stack.start_node("node-b", port_b)
        stack.start_worker("worker-a")
        stack.start_worker("worker-b")
        stack.start_beat()
        stack.start_nginx(port, ["node-a", "node-b"])
        stack.wait_healthy(["node-a", "node-b", "nginx"])

        print("== what the nodes share")
        cookies = staff_sign_in(
            port_a, county.staff_username, STAFF_PASSWORD, county.staff_totp_key
        )
        checks.expect(
            staff_home(port_b, cookies) == 200, "staff signed in on node A are signed in on node B"
        )
        fresh = staff_home(port_b, {})
        checks.expect(
            fresh in (301, 302), f"without the session, node B sends to sign-in ({fresh})"
        )
        answered, refused = throttled_share(port_a, port_b)
        checks.expect(
            answered == ANON_RATE and refused > 0,
            f"the API's rate limit counts both nodes: {answered} answered, {refused} refused "
            f"(limit {ANON_RATE} a minute)",
        )
        screen = asyncio.run(ussd_across(port_a, port_b, county.bills[0]))
        checks.expect(
            bool(screen and screen.startswith("CON ") and county.bills[0] in screen),
            "a USSD session goes on across the nodes (its state in the shared cache)",
        )

        print(
            f"== load through nginx: {arguments.confirmations} paybill confirmations, "
            f"{arguments.ussd} USSD sessions, {arguments.lifecycles} lifecycles; "
            f"kill -9 node A and worker A after {arguments.kill_after:.0f} s"
        )
        trans_ids = [f"TN{n:08d}" for n in range(arguments.confirmations)]
        killed: dict[str, int] = {}

        async def everything() -> tuple:
            async def killer() -> None:
                await asyncio.sleep(arguments.kill_after)
                killed["node-a"] = stack.kill_hard("node-a")
                killed["worker-a"] = stack.kill_hard("worker-a")

            paybill, ussd, (lifecycles, _), _ = await asyncio.gather(
                load.paybill(
                    port=port, token=MPESA_TOKEN, trans_ids=trans_ids, bills=county.bills, clients=4
                ),
                load.ussd(
                    port=port,
                    token=AT_TOKEN,
                    sessions=arguments.ussd,
                    bills=county.bills,
                    clients=3,
                    first_phone=10_000,
                ),
                load.lifecycles(
                    port=port,
                    token=MPESA_TOKEN,
                    tokens=county.tokens,
                    first=1,
                    count=arguments.lifecycles,
                    clients=2,
                ),
                killer(),
            )
            return paybill, ussd, lifecycles

        load_started = time.perf_counter()
        paybill, ussd, lifecycles = asyncio.run(everything())
        load_seconds = time.perf_counter() - load_started
        print(
            f"   killed node A ({killed.get('node-a')} processes) and worker A "
            f"({killed.get('worker-a')} processes); load took {load_seconds:.1f} s"
        )

        print("== after the load")
        from django.db import connection

        from kaunti.payments.models import InboundCallback, Payment

        drain_started = time.perf_counter()
        waiting = -1
        while time.perf_counter() - drain_started < arguments.drain_timeout:
            waiting = InboundCallback.objects.filter(
                kind="mpesa_c2b_confirmation", status="received"
            ).count()
            if waiting == 0:
                break
            time.sleep(1)
        drained_in = time.perf_counter() - drain_started
        connection.close()
        sent = set(paybill.acknowledged)
        payments = Payment.objects.filter(provider="mpesa-c2b", external_ref__in=trans_ids)
        recorded = list(payments.values_list("external_ref", flat=True))
        stored = InboundCallback.objects.filter(
            kind="mpesa_c2b_confirmation", reference__in=trans_ids
        )
        duplicates = stored.filter(status="duplicate").count()
        print(
            f"   paybill: {len(trans_ids)} TransIDs, {len(sent)} acknowledged, "
            f"{len(paybill.given_up)} given up, {paybill.posts} POSTs ({paybill.resent} sent "
            f"again; failures {dict(paybill.failures)}), {len(trans_ids) / paybill.elapsed:.0f}/s; "
            f"stored callbacks: {stored.count()} ({duplicates} marked duplicate); "
            f"all recorded {drained_in:.0f} s after the load ({waiting} left)"
        )
        checks.expect(
            not paybill.given_up, "every confirmation was acknowledged (after Daraja-style resends)"
        )
        checks.expect(
            waiting == 0,
            "the surviving worker (and beat's sweep) recorded every stored confirmation",
        )
        checks.expect(len(recorded) == len(set(recorded)), "no TransID recorded twice")
        checks.expect(
            set(recorded) == sent and len(recorded) == len(trans_ids),
            f"every confirmation recorded exactly once: {len(recorded)} payments for "
            f"{len(trans_ids)} TransIDs",
        )
        print(
            f"   USSD: {ussd.sessions} sessions, {ussd.completed} completed, {ussd.steps} "
            f"steps ({ussd.retried_steps} sent again), broken: {dict(ussd.broken)}"
        )
        checks.expect(
            ussd.completed == ussd.sessions and not ussd.broken,
            "no USSD session broken for longer than one retry; each kept its state",
        )
        print(
            f"   lifecycles: {lifecycles.completed} completed, failed: {dict(lifecycles.failed)}, "
            f"{lifecycles.requests} requests"
        )
        failed = sum(lifecycles.failed.values())
        checks.expect(
            failed <= 2,
            f"lifecycles: only those in flight on node A when it died may fail ({failed} of "
            f"{arguments.lifecycles}; 2 at a time)",
        )
        checks.expect(
            staff_home(port, cookies) == 200,
            "the staff session still works through nginx after node A died",
        )
        checks.expect(staff_home(port_b, cookies) == 200, "and on node B directly")

        from kaunti.ledger.selectors import get_trial_balance

        balance = get_trial_balance()
        connection.close()
        checks.expect(
            balance.is_balanced,
            f"trial balance: debits {balance.total_debit} = credits {balance.total_credit}",
        )
        audit = subprocess.run(
            [sys.executable, "manage.py", "verify_audit"],
            cwd=ROOT,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        checks.expect(
            audit.returncode == 0, f"verify_audit: {(audit.stdout + audit.stderr).strip()[-200:]}"
        )
        for name in ("node-b", "worker-b", "beat", "nginx"):
            checks.expect(stack.alive(name), f"{name} still running")
        completed = True
    finally:
        stack.stop_all()
        for name in ("node-a", "node-b", "worker-a", "worker-b", "beat"):
            log = workdir / f"{name}.log"
            if log.exists() and "Traceback" in log.read_text(errors="replace"):
                print(f"   (a traceback in {log.name}: see {log})")
        if not arguments.keep and not checks.failed and completed:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"   logs in {workdir}")
    if checks.failed:
        print(f"FAILED: {len(checks.failed)} check(s)")
        return 1
    print("OK: two nodes serve one county; one node and one worker killed, nothing lost or doubled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
