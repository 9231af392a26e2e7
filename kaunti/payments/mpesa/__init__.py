"""Everything M-Pesa, in one package.

Safaricom's side, free of Django (the Daraja simulator reads `protocol` too):
- `protocol`: Daraja's codes, limits and sandbox credentials;
- `config`, `responses`, `callbacks`: the client's settings, Daraja's answers, and the
  parsers of what Safaricom posts to us; `client`: the HTTP client (it re-exports them).

Kaunti's side, the services:
- `stk`: starting a payment (the STK prompt a citizen, clerk or USSD menu asks for);
- `outbound`: what we ask of Daraja (sending prompts, querying those never answered);
- `receive`: taking in callbacks: storing them, and deciding when they are applied;
- `stk_callbacks`, `c2b`: applying what Safaricom sent (STK results; paybill validation
  and confirmations), with what they share in `inbound`.

The Celery tasks in `kaunti.payments.tasks` import these modules; none of these imports
the tasks (they are queued by name, see `receive`). Nothing is re-exported here, so
reading `protocol` never loads Django.
"""
