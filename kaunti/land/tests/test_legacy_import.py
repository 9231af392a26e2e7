"""Cut-over from a legacy system: parcels, owners and opening arrears, with a reject report."""

from decimal import Decimal

from kaunti.land.models import ChargeKind, LegacyImport, Ownership, Parcel, ParcelCharge
from kaunti.land.selectors.balances import parcel_statement
from kaunti.land.selectors.parcels import current_ownerships
from kaunti.land.services.legacy import import_legacy_parcels
from kaunti.ledger.selectors import get_trial_balance

CSV = (
    "parcel_number,ward_code,area_hectares,land_use,owner_name,national_id,kra_pin,shares,arrears\n"
    "NYANDARUA/OL KALOU/1,0441,2.5,agricultural,Wanjiku Kamau,12345678,,,1500.50\n"
    "NYANDARUA/OL KALOU/2,0441,1,residential,Grace Njeri;Peter Kariuki,23456789;34567890,,1/2;1/2,0\n"
    "NYANDARUA/OL KALOU/3,9999,1,agricultural,John Mwangi,45678901,,,0\n"
    "NYANDARUA/OL KALOU/4,0441,1,agricultural,No Identifier,,,,0\n"
    "NYANDARUA/OL KALOU/1,0441,1,agricultural,Someone Else,56789012,,,0\n"
    "NYANDARUA/OL KALOU/5,0441,1,orchard,Jane Wambui,67890123,,,0\n"
    "NYANDARUA/OL KALOU/6,0441,1,agricultural,Ann Wairimu;Joseph Maina,78901234;89012345,,1/2;1/3,0\n"
    "NYANDARUA/OL KALOU/7,0441,1,agricultural,Mary Wanjiru,90123456,,,lots\n"
)


def test_good_rows_are_kept_and_every_other_row_reported(price_list: None) -> None:
    report = import_legacy_parcels(file_name="legacy.csv", content=CSV.encode(), actor=None)

    assert sorted(Parcel.objects.values_list("number", flat=True)) == [
        "NYANDARUA/OL KALOU/1",
        "NYANDARUA/OL KALOU/2",
    ]
    assert (report.total_rows, report.accepted_count, report.arrears_total) == (
        8,
        2,
        Decimal("1500.50"),
    )
    rows = {item["row"]: item["reason"] for item in report.rejected_rows}
    assert sorted(rows) == [4, 5, 6, 7, 8, 9]
    assert rows[4] == "the ward code 9999 is unknown"
    assert "national ID" in rows[5]
    assert rows[6] == "the parcel is already on row 2 of this file"
    assert "land_use" in rows[7]
    assert "add up to 5/6" in rows[8]
    assert "lots" in rows[9]
    assert LegacyImport.objects.get() == report
    # A rejected row leaves nothing behind.
    assert Ownership.objects.count() == 3


def test_joint_owners_and_opening_arrears(price_list: None) -> None:
    import_legacy_parcels(file_name="legacy.csv", content=CSV.encode(), actor=None)

    joint = Parcel.objects.get(number="NYANDARUA/OL KALOU/2")
    assert [
        (h.owner.name, h.share_numerator, h.share_denominator)
        for h in current_ownerships(parcel=joint)
    ] == [
        ("Grace Njeri", 1, 2),
        ("Peter Kariuki", 1, 2),
    ]
    first = Parcel.objects.get(number="NYANDARUA/OL KALOU/1")
    charge = ParcelCharge.objects.get(parcel=first)
    assert (charge.kind, charge.amount, charge.bill.status) == (
        ChargeKind.ARREARS,
        Decimal("1500.50"),
        "open",
    )
    statement = parcel_statement(parcel=first)
    assert statement.years[0].arrears_brought_forward == Decimal("1500.50")
    assert statement.balance == Decimal("1500.50")
    assert get_trial_balance().is_balanced


def test_importing_the_file_again_adds_nothing(price_list: None) -> None:
    import_legacy_parcels(file_name="legacy.csv", content=CSV.encode(), actor=None)

    again = import_legacy_parcels(file_name="legacy.csv", content=CSV.encode(), actor=None)

    assert again.accepted_count == 0
    assert Parcel.objects.count() == 2
    assert ParcelCharge.objects.count() == 1
