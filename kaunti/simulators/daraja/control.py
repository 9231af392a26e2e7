"""JSON control endpoints for tests and demos, under /simulator/ (not part of Daraja).

Script outcomes per phone, answer prompts, pay a bill, read the deliveries made, expire
tokens, reset. They answer `{"error": ...}` with HTTP 400 when asked something odd.
"""

from kaunti.simulators.daraja.config import (
    PHONE_ANSWERS,
    DeliveryMode,
    Outcome,
    Script,
)
from kaunti.simulators.daraja.state import SimulatorState
from kaunti.simulators.daraja.wire import (
    as_text,
    normalise_msisdn,
    whole_amount_field,
)
from kaunti.simulators.http import Reply, Request, json_reply


def summary(state: SimulatorState, request: Request) -> Reply:
    """GET /simulator/: what is configured and which URLs are registered."""
    config = state.config
    default, phones = state.scripts()
    return json_reply(
        200,
        {
            "shortcode": config.shortcode,
            "validation": config.validation,
            "msisdn_mode": config.msisdn_mode.value,
            "default_script": _script_json(default),
            "phone_scripts": {phone: _script_json(script) for phone, script in phones.items()},
            "c2b_registrations": [
                {
                    "ShortCode": r.shortcode,
                    "ResponseType": r.response_type,
                    "ConfirmationURL": r.confirmation_url,
                    "ValidationURL": r.validation_url,
                    "version": r.version,
                }
                for r in state.registrations()
            ],
        },
    )


def set_outcome(state: SimulatorState, request: Request) -> Reply:
    """POST /simulator/outcomes {"phone"?, "outcome", "delivery"?, "delay_seconds"?}.

    Without "phone" it sets the default for every phone.
    """
    body = request.json_object() or {}
    try:
        outcome = Outcome(str(body.get("outcome")))
        delivery = DeliveryMode(str(body.get("delivery", DeliveryMode.ONCE.value)))
    except ValueError:
        return _error(
            f"outcome must be one of {[o.value for o in Outcome]} and delivery one of "
            f"{[d.value for d in DeliveryMode]}"
        )
    delay = body.get("delay_seconds", state.config.script.delay_seconds)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
        return _error("delay_seconds must be a number of seconds, 0 or more")
    msisdn = None
    if body.get("phone") is not None:
        msisdn = normalise_msisdn(str(body["phone"]))
        if msisdn is None:
            return _error("phone must be a Kenyan mobile number")
    script = Script(outcome=outcome, delivery=delivery, delay_seconds=float(delay))
    state.set_script(script, msisdn=msisdn)
    return json_reply(200, {"phone": msisdn, **_script_json(script)})


def list_deliveries(state: SimulatorState, request: Request) -> Reply:
    """GET /simulator/deliveries: every POST made to our URLs, oldest first."""
    return json_reply(200, {"deliveries": [d.as_json() for d in state.deliveries()]})


def list_pushes(state: SimulatorState, request: Request) -> Reply:
    return json_reply(200, {"pushes": [p.as_json() for p in state.pushes()]})


def list_requests(state: SimulatorState, request: Request) -> Reply:
    """GET /simulator/requests: the Daraja calls received (method, path, status)."""
    return json_reply(
        200,
        {
            "requests": [
                {"method": r.method, "path": r.path, "status": r.status} for r in state.requests()
            ]
        },
    )


def answer_prompt(state: SimulatorState, request: Request, *, checkout_request_id: str) -> Reply:
    """POST /simulator/prompts/<CheckoutRequestID> {"answer": "pay"|"cancel"|...}."""
    body = request.json_object() or {}
    outcome = PHONE_ANSWERS.get(str(body.get("answer")))
    if outcome is None:
        return _error(f"answer must be one of {sorted(PHONE_ANSWERS)}")
    if not state.resolve(checkout_request_id, outcome):
        return json_reply(404, {"error": "no pending prompt with that CheckoutRequestID"})
    return json_reply(200, {"CheckoutRequestID": checkout_request_id, "outcome": outcome.value})


def pay_bill(state: SimulatorState, request: Request) -> Reply:
    """POST /simulator/c2b/pay {"phone", "amount", "account", "shortcode"?}: pay now.

    Unlike Daraja's simulate this waits for validation and confirmation and says how
    they went.
    """
    body = request.json_object() or {}
    msisdn = normalise_msisdn(str(body.get("phone", "")))
    amount = whole_amount_field(body.get("amount"))
    account = as_text(body.get("account"))
    shortcode = as_text(body.get("shortcode", state.config.shortcode))
    if msisdn is None or amount is None or account is None or not shortcode:
        return _error("give phone (Kenyan mobile), amount (whole shillings) and account")
    try:
        result = state.pay_bill(msisdn=msisdn, shortcode=shortcode, amount=amount, account=account)
    except LookupError as exc:
        return _error(str(exc))
    return json_reply(200, result.as_json())


def expire_tokens(state: SimulatorState, request: Request) -> Reply:
    state.expire_tokens()
    return json_reply(200, {"expired": True})


def reset(state: SimulatorState, request: Request) -> Reply:
    state.reset()
    return json_reply(200, {"reset": True})


def _script_json(script: Script) -> dict[str, object]:
    return {
        "outcome": script.outcome.value,
        "delivery": script.delivery.value,
        "delay_seconds": script.delay_seconds,
    }


def _error(message: str) -> Reply:
    return json_reply(400, {"error": message})
