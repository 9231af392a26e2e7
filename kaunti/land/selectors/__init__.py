"""Land's reads, one module per subject. Nothing here writes.

- `parcels`: lookups by number, search, owners, documents and the rates status;
- `balances`: what a parcel owes, its statement, the public balance check;
- `keypad`: parcels found from what a phone user types (USSD, SMS);
- `maps`: the land map;
- `rolls`: valuation rolls, their entries, imports and objections;
- `billing`: rating years, waivers, billing runs, legacy arrears imports;
- `operations`: the rates run's progress for /metrics (ADR 21).

Who may call these is decided by the views (`kaunti.land.permissions`: a role granting
the land action held in Lands, or for some actions the Revenue Directorate). The public
balance check is the exception: it returns only a balance and the bills to pay, never who
owns the parcel.
"""
