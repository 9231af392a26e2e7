"""Safaricom M-Pesa Daraja: the HTTP client, parsers for what Safaricom posts to us, and a
local simulator that speaks the same wire format.

Callers import `kaunti.payments.mpesa.client` (which re-exports the config, the answers,
the errors and the callback parsers); `protocol` holds Safaricom's codes and limits, and
`simulator` the local Daraja. Nothing is re-exported here, so the simulator never loads
the Django-side modules.
"""
