"""A local Africa's Talking: the SMS gateway our `AfricasTalkingSmsBackend` talks to over
real HTTP (`gateway`), and the forms the real gateway POSTs to our USSD and SMS
callbacks. No Django: tests and the USSD console use it."""

from kaunti.simulators.africastalking.gateway import (
    AcceptedMessage,
    AfricasTalkingSimulator,
    Outcome,
    ReceivedRequest,
    inbound_sms_form,
    message_parts,
    ussd_form,
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
