"""`python -m kaunti.simulators.daraja`: run the local Daraja in the foreground."""

import argparse
import logging
import sys

from kaunti.payments.mpesa.protocol import SANDBOX_MSISDN, SANDBOX_PASSKEY, SANDBOX_SHORTCODE
from kaunti.simulators.daraja.config import (
    DeliveryMode,
    MsisdnMode,
    Outcome,
    Script,
    SimulatorConfig,
)
from kaunti.simulators.daraja.server import DarajaSimulator


def parse_arguments(argv: list[str] | None = None) -> SimulatorConfig:
    parser = argparse.ArgumentParser(
        prog="python -m kaunti.simulators.daraja",
        description="A local M-Pesa Daraja for development and demos.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--consumer-key", default="demo")
    parser.add_argument("--consumer-secret", default="demo")
    parser.add_argument("--shortcode", default=SANDBOX_SHORTCODE)
    parser.add_argument("--passkey", default=SANDBOX_PASSKEY)
    parser.add_argument(
        "--validation",
        action="store_true",
        help="call the registered ValidationURL before each C2B confirmation",
    )
    parser.add_argument(
        "--msisdn-mode", choices=[m.value for m in MsisdnMode], default=MsisdnMode.PLAIN.value
    )
    parser.add_argument(
        "--outcome",
        choices=[o.value for o in Outcome],
        default=Outcome.PHONE.value,
        help="how STK pushes end unless scripted per phone; 'phone' waits for the phone page",
    )
    parser.add_argument(
        "--delivery", choices=[d.value for d in DeliveryMode], default=DeliveryMode.ONCE.value
    )
    parser.add_argument(
        "--late-seconds", type=float, default=5.0, help="delay of a 'late' delivery"
    )
    parser.add_argument(
        "--processing-seconds",
        type=float,
        default=2.0,
        help="how long a scripted push stays pending before its outcome",
    )
    parser.add_argument(
        "--allow-any-c2b-url",
        action="store_true",
        help="accept C2B URLs containing words Safaricom is reported to refuse (mpesa, query...)",
    )
    parser.add_argument(
        "--prompt-timeout",
        type=float,
        default=None,
        help="seconds before an unanswered phone prompt ends as 1037 (default: never)",
    )
    arguments = parser.parse_args(argv)
    return SimulatorConfig(
        host=arguments.host,
        port=arguments.port,
        consumer_key=arguments.consumer_key,
        consumer_secret=arguments.consumer_secret,
        shortcode=arguments.shortcode,
        passkey=arguments.passkey,
        validation=arguments.validation,
        msisdn_mode=MsisdnMode(arguments.msisdn_mode),
        script=Script(
            outcome=Outcome(arguments.outcome),
            delivery=DeliveryMode(arguments.delivery),
            delay_seconds=arguments.late_seconds,
        ),
        processing_seconds=arguments.processing_seconds,
        prompt_timeout_seconds=arguments.prompt_timeout,
        refuse_forbidden_url_words=not arguments.allow_any_c2b_url,
    )


def main(argv: list[str] | None = None) -> None:
    config = parse_arguments(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    simulator = DarajaSimulator(config).bind()
    sys.stdout.write(
        f"Daraja simulator at {simulator.base_url}\n"
        f"Phone page: {simulator.phone_url(SANDBOX_MSISDN)} (any number: {simulator.base_url}/phone/)\n"
        f"Control: {simulator.base_url}/simulator/\n"
    )
    sys.stdout.flush()
    try:
        simulator.serve_forever()
    except KeyboardInterrupt:
        sys.stdout.write("Daraja simulator stopped\n")


if __name__ == "__main__":
    main()
