"""Safaricom M-Pesa Daraja: the HTTP client, parsers for what Safaricom posts to us, and a
local simulator that speaks the same wire format.

The modules are imported by name (`client`, `callbacks`, `codes`, `simulator`) rather than
re-exported here, so that running the simulator never loads Django.
"""
