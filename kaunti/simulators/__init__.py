"""Local stand-ins for the outside services Kaunti talks to, speaking their real wire formats.

Tests and demos drive our real client code against them over real HTTP, so no test needs
the network and no test mocks our own code:
- `daraja`: Safaricom's M-Pesa Daraja (`python -m kaunti.simulators.daraja`, which
  `make run` starts on :8001);
- `africastalking`: Africa's Talking's SMS gateway, and the USSD and SMS callback forms;
- `http`: the HTTP plumbing both share (request parsing, replies, a threaded server).

They import no app (import-linter checks it), except the one Django-free module of wire
facts that the Daraja client and the Daraja simulator must agree on,
`kaunti.payments.mpesa.protocol`; and no app imports them, except tests and the USSD
console, which plays the gateway's part.
"""
