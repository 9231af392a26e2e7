"""Local stand-ins for the outside services Kaunti talks to, speaking their real wire formats.

Tests and demos drive our real client code against them over real HTTP, so no test needs
the network and no test mocks our own code.
"""
