"""Land's models, one module per subject: parcels, their owners and transfers, valuation rolls, rating rules and rates charges.

Rates are raised as bills through `payments` (source type `land.rates`); a
`ParcelCharge` ties each bill to its parcel and says what it is for (the year's rates,
a month's penalty, arrears brought forward from a legacy system), and its unique
constraints are what make billing and penalty runs idempotent.
Nothing financial is edited or deleted here: a charge stays, its bill may be cancelled
(reversed) in `payments`.
"""

from kaunti.land.models.charges import (
    RATES_COLLECTING_DEPARTMENT,
    RATES_SOURCE_TYPE,
    BillingRun,
    ChargeKind,
    LegacyImport,
    ParcelCharge,
    RunState,
)
from kaunti.land.models.documents import ParcelDocument
from kaunti.land.models.owners import Owner, OwnerKind, Ownership, Transfer
from kaunti.land.models.parcels import (
    LandUse,
    Parcel,
    Tenure,
    display_parcel_number,
    parcel_number_key,
)
from kaunti.land.models.rating import RatingRule, RatingYear, WaiverCampaign
from kaunti.land.models.rolls import (
    Objection,
    ObjectionStatus,
    RollEntry,
    RollImport,
    RollStatus,
    ValuationRoll,
)

__all__ = [
    "RATES_COLLECTING_DEPARTMENT",
    "RATES_SOURCE_TYPE",
    "BillingRun",
    "ChargeKind",
    "LandUse",
    "LegacyImport",
    "Objection",
    "ObjectionStatus",
    "Owner",
    "OwnerKind",
    "Ownership",
    "Parcel",
    "ParcelCharge",
    "ParcelDocument",
    "RatingRule",
    "RatingYear",
    "RollEntry",
    "RollImport",
    "RollStatus",
    "RunState",
    "Tenure",
    "Transfer",
    "ValuationRoll",
    "WaiverCampaign",
    "display_parcel_number",
    "parcel_number_key",
]
