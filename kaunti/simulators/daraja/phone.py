"""The phone page: pay as a phone would, in a browser, with no JavaScript.

GET /phone/<msisdn>/ lists the STK prompts waiting on that phone (pushes scripted with the
"phone" outcome) with one button per answer, a paybill form that runs the C2B flow, and the
phone's M-Pesa messages. Plain forms and post/redirect/get; no inline script or style, so
it works under a strict Content-Security-Policy and on any browser.
"""

from html import escape

from kaunti.simulators.daraja.config import PHONE_ANSWERS
from kaunti.simulators.daraja.records import Push
from kaunti.simulators.daraja.state import SimulatorState
from kaunti.simulators.daraja.wire import (
    normalise_msisdn,
    whole_amount_field,
)
from kaunti.simulators.http import Reply, Request, html_reply, redirect

ANSWER_LABELS = (
    ("pay", "Enter PIN and pay"),
    ("cancel", "Cancel"),
    ("wrong_pin", "Wrong PIN"),
    ("insufficient_funds", "Insufficient funds"),
)


def choose_phone(state: SimulatorState, request: Request) -> Reply:
    """GET /phone/: ask for a number, or go to its page."""
    number = request.query.get("number", "")
    if number:
        msisdn = normalise_msisdn(number)
        if msisdn is not None:
            return redirect(phone_path(msisdn))
    error = "<p>That is not a Kenyan mobile number.</p>" if number else ""
    return html_reply(
        400 if number else 200,
        _page(
            "M-Pesa phone",
            f"""<h1>M-Pesa phone</h1>{error}
<form method="get" action="/phone/">
<p><label for="number">Phone number</label>
<input id="number" name="number" inputmode="tel" autocomplete="off" placeholder="0712 345 678"></p>
<p><button type="submit">Open the phone</button></p>
</form>""",
        ),
    )


def show_phone(state: SimulatorState, request: Request, *, number: str) -> Reply:
    """GET /phone/<msisdn>/."""
    msisdn = normalise_msisdn(number)
    if msisdn is None:
        return html_reply(404, _page("Unknown phone", "<p>Not a Kenyan mobile number.</p>"))
    if msisdn != number:
        return redirect(phone_path(msisdn))
    prompts = state.pending_prompts(msisdn)
    prompt_html = "".join(_prompt(msisdn, push) for push in prompts) or "<p>No prompts.</p>"
    registered = [r.shortcode for r in state.registrations()]
    default_shortcode = (
        state.config.shortcode
        if state.config.shortcode in registered or not registered
        else registered[0]
    )
    messages = state.messages(msisdn)
    message_html = (
        "<ol>" + "".join(f"<li>{escape(text)}</li>" for text in messages) + "</ol>"
        if messages
        else "<p>No messages.</p>"
    )
    path = phone_path(msisdn)
    body = f"""<h1>Phone {escape(msisdn)}</h1>
<p><a href="{path}">Refresh</a></p>
<h2>M-Pesa prompts</h2>
{prompt_html}
<h2>Lipa na M-Pesa: Pay bill</h2>
<form method="post" action="{path}paybill/">
<p><label for="shortcode">Business number</label>
<input id="shortcode" name="shortcode" inputmode="numeric" value="{escape(default_shortcode)}"></p>
<p><label for="account">Account number</label>
<input id="account" name="account" autocomplete="off"></p>
<p><label for="amount">Amount (KES)</label>
<input id="amount" name="amount" inputmode="numeric" autocomplete="off"></p>
<p><button type="submit">Pay bill</button></p>
</form>
<h2>Messages</h2>
{message_html}"""
    return html_reply(200, _page(f"M-Pesa phone {msisdn}", body))


def answer_prompt(
    state: SimulatorState, request: Request, *, number: str, checkout_request_id: str
) -> Reply:
    """POST /phone/<msisdn>/prompts/<CheckoutRequestID>/ answer=pay|cancel|..."""
    msisdn = normalise_msisdn(number) or number
    outcome = PHONE_ANSWERS.get(request.form().get("answer", ""))
    push = state.push(checkout_request_id)
    if outcome is None or push is None or push.msisdn != msisdn:
        return html_reply(400, _page("Not answered", _back(msisdn, "That prompt is not here.")))
    state.resolve(checkout_request_id, outcome)
    return redirect(phone_path(msisdn))


def pay_bill(state: SimulatorState, request: Request, *, number: str) -> Reply:
    """POST /phone/<msisdn>/paybill/: validation and confirmation run before the redirect,
    so the refreshed page already shows how the payment went."""
    msisdn = normalise_msisdn(number)
    if msisdn is None:
        return html_reply(404, _page("Unknown phone", "<p>Not a Kenyan mobile number.</p>"))
    form = request.form()
    amount = whole_amount_field(form.get("amount", "").strip())
    account = form.get("account", "").strip()
    shortcode = form.get("shortcode", "").strip()
    if amount is None or not account or not shortcode:
        return html_reply(
            400,
            _page(
                "Not paid",
                _back(msisdn, "Enter a business number, an account number and a whole amount."),
            ),
        )
    try:
        state.pay_bill(msisdn=msisdn, shortcode=shortcode, amount=amount, account=account)
    except LookupError as exc:
        return html_reply(400, _page("Not paid", _back(msisdn, str(exc))))
    return redirect(phone_path(msisdn))


def phone_path(msisdn: str) -> str:
    return f"/phone/{msisdn}/"


def _prompt(msisdn: str, push: Push) -> str:
    buttons = "\n".join(
        f'<button type="submit" name="answer" value="{value}">{escape(label)}</button>'
        for value, label in ANSWER_LABELS
    )
    question = f"Pay KES {push.amount:,} to {push.shortcode} account {push.account_reference}?"
    return f"""<form method="post" action="{phone_path(msisdn)}prompts/{escape(push.checkout_request_id)}/">
<p>{escape(question)}</p>
<p>{buttons}</p>
</form>"""


def _back(msisdn: str, text: str) -> str:
    return f'<p>{escape(text)}</p><p><a href="{phone_path(msisdn)}">Back to the phone</a></p>'


def _page(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
</head>
<body>
{body}
</body>
</html>
"""
