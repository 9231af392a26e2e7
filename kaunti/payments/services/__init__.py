"""Every write of the payments app, one module per part of the money path."""
