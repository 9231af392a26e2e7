"""A local Africa's Talking: the SMS gateway our `AfricasTalkingSmsBackend` talks to over
real HTTP (`gateway`, with its wire facts in `wire`), and the forms (`forms`) the real gateway POSTs to our USSD and SMS
callbacks. No Django: tests and the USSD console use it."""

from kaunti.simulators.africastalking.forms import inbound_sms_form, ussd_form
from kaunti.simulators.africastalking.gateway import AfricasTalkingSimulator
from kaunti.simulators.africastalking.wire import (
    AcceptedMessage,
    Outcome,
    ReceivedRequest,
    message_parts,
)

__all__ = [
    "AcceptedMessage",
    "AfricasTalkingSimulator",
    "Outcome",
    "ReceivedRequest",
    "inbound_sms_form",
    "message_parts",
    "ussd_form",
]
