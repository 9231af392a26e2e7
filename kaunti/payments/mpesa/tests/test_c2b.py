"""C2B against the simulator: URL registration (v1 and v2), then a customer paying the paybill
reaches our validation and confirmation URLs with Safaricom's exact fields."""

import hashlib
import re
from collections.abc import Callable
from decimal import Decimal

import pytest

from kaunti.payments.mpesa.callbacks import NAIROBI, C2BPayment, parse_c2b
from kaunti.payments.mpesa.client import DarajaClient, DarajaError
from kaunti.payments.mpesa.protocol import C2BValidationResult, c2b_validation_response
from kaunti.payments.mpesa.tests.conftest import PHONE, Receiver, closed_port_url, make_client
from kaunti.simulators.daraja import DarajaSimulator, MsisdnMode

C2B_SHORTCODE = "600610"
C2B_FIELDS = [
    "TransactionType",
    "TransID",
    "TransTime",
    "TransAmount",
    "BusinessShortCode",
    "BillRefNumber",
    "InvoiceNumber",
    "OrgAccountBalance",
    "ThirdPartyTransID",
    "MSISDN",
    "FirstName",
    "MiddleName",
    "LastName",
]


def register(client: DarajaClient, receiver: Receiver, **overrides: str) -> None:
    arguments = {
        "confirmation_url": receiver.url("/c2b/confirm"),
        "validation_url": receiver.url("/c2b/validate"),
        "shortcode": C2B_SHORTCODE,
    }
    arguments.update(overrides)
    client.register_c2b_urls(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_register_urls_with_either_api_version(
    simulator: DarajaSimulator, receiver: Receiver, version: str
) -> None:
    client = make_client(simulator, config_c2b_register_version=version)
    accepted = client.register_c2b_urls(
        confirmation_url=receiver.url("/c2b/confirm"),
        validation_url=receiver.url("/c2b/validate"),
        response_type="Cancelled",
        shortcode=C2B_SHORTCODE,
    )
    assert re.match(r"^\d{4}-\d{8}-1$", accepted.originator_conversation_id)
    assert (accepted.response_code, accepted.response_description) == ("0", "success")
    [request] = simulator.state.requests(f"/mpesa/c2b/{version}/registerurl")
    assert request.body == {
        "ShortCode": 600610,
        "ResponseType": "Cancelled",
        "ConfirmationURL": receiver.url("/c2b/confirm"),
        "ValidationURL": receiver.url("/c2b/validate"),
    }
    registration = simulator.state.registration(C2B_SHORTCODE)
    assert registration is not None
    assert (registration.version, registration.response_type) == (version, "Cancelled")


def test_register_with_a_version_the_app_lacks_is_refused(
    start_simulator: Callable[..., DarajaSimulator], receiver: Receiver
) -> None:
    simulator = start_simulator(c2b_register_versions=("v2",))
    client = make_client(simulator, config_c2b_register_version="v1")
    with pytest.raises(DarajaError) as caught:
        register(client, receiver)
    assert caught.value.error_code == "401.003.01"
    assert caught.value.retryable is False
    assert simulator.state.registrations() == []


def test_register_refuses_urls_with_words_safaricom_rejects(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver
) -> None:
    with pytest.raises(DarajaError) as caught:
        register(daraja, receiver, validation_url=receiver.url("/payments/mpesa/validate"))
    assert caught.value.message == "Bad Request - Invalid ValidationURL"
    assert simulator.state.registrations() == []


def test_simulate_calls_validation_then_confirmation_with_the_exact_fields(
    start_simulator: Callable[..., DarajaSimulator], receiver: Receiver
) -> None:
    simulator = start_simulator(validation=True)
    client = make_client(simulator)
    register(client, receiver)
    receiver.answer(
        "/c2b/validate",
        c2b_validation_response(C2BValidationResult.ACCEPTED, third_party_trans_id="KAUNTI-1"),
    )
    accepted = client.simulate_c2b(
        phone="0708374149", amount=1500, bill_ref_number="lr-0001234", shortcode=C2B_SHORTCODE
    )
    assert accepted.response_description == "Accept the service request successfully."
    validation, confirmation = receiver.wait_for(2)
    assert (validation.path, confirmation.path) == ("/c2b/validate", "/c2b/confirm")
    assert list(validation.payload) == C2B_FIELDS
    trans_id, trans_time = validation.payload["TransID"], validation.payload["TransTime"]
    assert re.match(r"^[A-Z][A-Z0-9]{9}$", trans_id)
    assert re.match(r"^\d{14}$", trans_time)
    assert validation.payload == {
        "TransactionType": "Pay Bill",
        "TransID": trans_id,
        "TransTime": trans_time,
        "TransAmount": "1500.00",
        "BusinessShortCode": "600610",
        "BillRefNumber": "lr-0001234",
        "InvoiceNumber": "",
        "OrgAccountBalance": "",
        "ThirdPartyTransID": "",
        "MSISDN": PHONE,
        "FirstName": validation.payload["FirstName"],
        "MiddleName": validation.payload["MiddleName"],
        "LastName": validation.payload["LastName"],
    }
    assert confirmation.payload == {
        **validation.payload,
        "OrgAccountBalance": "1500.00",
        "ThirdPartyTransID": "KAUNTI-1",
    }
    payment = parse_c2b(confirmation.payload)
    assert payment == C2BPayment(
        transaction_type="Pay Bill",
        trans_id=trans_id,
        trans_time=payment.trans_time,
        amount=Decimal("1500.00"),
        shortcode="600610",
        bill_ref_number="LR-0001234",
        msisdn=PHONE,
        first_name=str(validation.payload["FirstName"]),
        middle_name=str(validation.payload["MiddleName"]),
        last_name=str(validation.payload["LastName"]),
        org_account_balance=Decimal("1500.00"),
        third_party_trans_id="KAUNTI-1",
    )
    assert payment.trans_time.tzinfo == NAIROBI
    assert f"{payment.trans_time:%Y%m%d%H%M%S}" == trans_time


def test_rejected_validation_means_no_confirmation(
    start_simulator: Callable[..., DarajaSimulator], receiver: Receiver
) -> None:
    simulator = start_simulator(validation=True)
    register(make_client(simulator), receiver)
    receiver.answer(
        "/c2b/validate", c2b_validation_response(C2BValidationResult.INVALID_ACCOUNT_NUMBER)
    )
    result = simulator.pay_bill(
        phone_number=PHONE, amount=200, account="NO-SUCH-BILL", shortcode=C2B_SHORTCODE
    )
    assert (result.accepted, result.detail) == (False, "Rejected C2B00012")
    assert [r.path for r in receiver.received] == ["/c2b/validate"]
    assert receiver.received[0].payload["BillRefNumber"] == "NO-SUCH-BILL"


@pytest.mark.parametrize(
    ("response_type", "confirmed"), [("Completed", True), ("Cancelled", False)]
)
def test_unreachable_validation_follows_the_registered_response_type(
    start_simulator: Callable[..., DarajaSimulator],
    receiver: Receiver,
    response_type: str,
    confirmed: bool,
) -> None:
    simulator = start_simulator(validation=True)
    register(
        make_client(simulator),
        receiver,
        validation_url=closed_port_url("/c2b/validate"),
        response_type=response_type,
    )
    result = simulator.pay_bill(
        phone_number=PHONE, amount=200, account="BILL123", shortcode=C2B_SHORTCODE
    )
    assert result.accepted is confirmed
    assert result.detail.startswith("validation unanswered")
    [validation] = simulator.deliveries()[:1]
    assert (validation.status, validation.error.startswith("ConnectError")) == (None, True)
    assert [r.path for r in receiver.received] == (["/c2b/confirm"] if confirmed else [])


def test_without_external_validation_only_the_confirmation_is_sent(
    simulator: DarajaSimulator, daraja: DarajaClient, receiver: Receiver
) -> None:
    register(daraja, receiver)
    daraja.simulate_c2b(phone=PHONE, amount=50, bill_ref_number="BILL123", shortcode=C2B_SHORTCODE)
    [confirmation] = receiver.wait_for(1)
    assert confirmation.path == "/c2b/confirm"
    assert confirmation.payload["TransAmount"] == "50.00"


def test_simulate_to_a_shortcode_without_urls_is_refused(
    simulator: DarajaSimulator, daraja: DarajaClient
) -> None:
    with pytest.raises(DarajaError) as caught:
        daraja.simulate_c2b(phone=PHONE, amount=50, bill_ref_number="BILL123")
    assert caught.value.error_code == "400.002.02"
    assert simulator.deliveries() == []


@pytest.mark.parametrize(
    ("mode", "shown"),
    [
        (MsisdnMode.PLAIN, PHONE),
        (MsisdnMode.HASHED, hashlib.sha256(PHONE.encode()).hexdigest()),
        (MsisdnMode.MASKED, "2547 ***** 149"),
    ],
)
def test_msisdn_appears_plain_hashed_or_masked_as_configured(
    start_simulator: Callable[..., DarajaSimulator],
    receiver: Receiver,
    mode: MsisdnMode,
    shown: str,
) -> None:
    simulator = start_simulator(msisdn_mode=mode)
    register(make_client(simulator), receiver)
    simulator.pay_bill(phone_number=PHONE, amount=10, account="BILL123", shortcode=C2B_SHORTCODE)
    [confirmation] = receiver.wait_for(1)
    assert confirmation.payload["MSISDN"] == shown
    # Kept as given: BillRefNumber, not the phone, is what a payment is matched on.
    assert parse_c2b(confirmation.payload).msisdn == shown
