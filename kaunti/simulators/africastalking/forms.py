"""The forms the real gateway POSTs to our USSD and inbound-SMS callbacks."""

import uuid

from kaunti.simulators.africastalking.wire import SAFARICOM_NETWORK_CODE, e164


def ussd_form(
    *,
    session_id: str,
    phone_number: str,
    text: str,
    service_code: str = "*000*18#",
    network_code: str = SAFARICOM_NETWORK_CODE,
) -> dict[str, str]:
    """The form Africa's Talking POSTs to a USSD callback on each step (reference 2.2):
    `text` holds every input of the session so far, joined by "*"."""
    return {
        "sessionId": session_id,
        "serviceCode": service_code,
        "phoneNumber": e164(phone_number),
        "networkCode": network_code,
        "text": text,
    }


def inbound_sms_form(
    *,
    sender: str,
    text: str,
    to: str = "40018",
    message_id: str = "",
    link_id: str = "",
    date: str = "2026-11-27 12:00:00",
    network_code: str = SAFARICOM_NETWORK_CODE,
) -> dict[str, str]:
    """The form Africa's Talking POSTs when someone texts the shortcode (reference 2.4)."""
    return {
        "date": date,
        "from": e164(sender),
        "id": message_id or f"ATXid_{uuid.uuid4().hex}",
        "linkId": link_id,
        "text": text,
        "to": to,
        "networkCode": network_code,
    }
