"""The fee engine: each kind of rule with exact amounts, and properties that always hold."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from kaunti.eservices.fees.breakdown import FeeBreakdown
from kaunti.eservices.fees.engine import compute_fees
from kaunti.eservices.fees.rules import parse_rule
from kaunti.eservices.fees.schedules import RuleSpec, ScheduleSpec

ON = date(2026, 2, 2)


def schedule(*rules: RuleSpec) -> ScheduleSpec:
    return ScheduleSpec(name="Test Finance Act", rules=rules)


def amounts(breakdown: FeeBreakdown) -> list[tuple[str, Decimal]]:
    return [(line.rule_code, line.amount) for line in breakdown.lines]


FIXED = RuleSpec(
    code="fee",
    kind="fixed",
    stream_code="food-handler",
    description_en="Certificate",
    description_sw="Cheti",
    parameters={"amount": "500"},
)
RATE_CARD = RuleSpec(
    code="permit",
    kind="rate_card",
    stream_code="business-permit",
    description_en="Business permit",
    description_sw="Kibali cha biashara",
    order=1,
    parameters={
        "lookup": [
            {"field": "category"},
            {"field": "ward", "as": "zone", "zones": {"A": ["0453", "0441"]}, "default": "B"},
        ],
        "rows": [
            {"category": "shop", "zone": "A", "amount": "5000", "label_en": "Small shop"},
            {"category": "shop", "zone": "B", "amount": "3500", "label_en": "Small shop"},
            {"category": "salon", "zone": "*", "amount": "10000", "label_en": "Salon"},
        ],
    },
)
PER_M2 = RuleSpec(
    code="area",
    kind="per_unit",
    stream_code="building-approval",
    description_en="Plan approval",
    parameters={"field": "floor_area", "unit_price": "50", "unit_en": "m²", "minimum": "5000"},
)
PENALTY = RuleSpec(
    code="late",
    kind="penalty",
    stream_code="business-permit",
    description_en="Late renewal penalty",
    order=2,
    parameters={"percent": "10", "after": "03-31", "of_streams": ["business-permit"]},
)
WAIVER = RuleSpec(
    code="amnesty",
    kind="waiver",
    description_en="Amnesty",
    order=3,
    starts_on=date(2026, 7, 1),
    ends_on=date(2026, 9, 30),
    parameters={"percent": "100", "penalties_only": True, "authority": "Gazette Notice 1 of 2026"},
)


def test_a_fixed_rule_charges_its_amount_on_its_stream() -> None:
    breakdown = compute_fees(schedule=schedule(FIXED), answers={}, on_date=ON)
    assert breakdown.total == Decimal("500.00")
    line = breakdown.lines[0]
    assert (line.stream_code, line.description_en, line.description_sw, line.amount) == (
        "food-handler",
        "Certificate",
        "Cheti",
        Decimal("500.00"),
    )


@pytest.mark.parametrize(
    ("category", "ward", "expected", "description"),
    [
        ("shop", "0453", "5000.00", "Business permit: Small shop"),
        ("shop", "0462", "3500.00", "Business permit: Small shop"),
        ("salon", "0462", "10000.00", "Business permit: Salon"),
    ],
)
def test_a_rate_card_is_looked_up_by_category_and_the_zone_of_the_ward(
    category: str, ward: str, expected: str, description: str
) -> None:
    breakdown = compute_fees(
        schedule=schedule(RATE_CARD), answers={"category": category, "ward": ward}, on_date=ON
    )
    assert amounts(breakdown) == [("permit", Decimal(expected))]
    assert breakdown.lines[0].description_en == description


def test_a_rate_card_without_a_row_for_the_answer_names_the_answer() -> None:
    with pytest.raises(ValidationError) as raised:
        compute_fees(
            schedule=schedule(RATE_CARD), answers={"category": "bank", "ward": "0453"}, on_date=ON
        )
    assert list(raised.value.message_dict) == ["category"]


def test_a_per_unit_rule_multiplies_the_answer_and_respects_its_minimum() -> None:
    large = compute_fees(schedule=schedule(PER_M2), answers={"floor_area": "250.5"}, on_date=ON)
    small = compute_fees(schedule=schedule(PER_M2), answers={"floor_area": "20"}, on_date=ON)
    assert amounts(large) == [("area", Decimal("12525.00"))]
    assert large.lines[0].description_en == "Plan approval (250.5 m² x KES 50.00)"
    assert amounts(small) == [("area", Decimal("5000.00"))]


def test_a_per_unit_rule_needs_a_number() -> None:
    with pytest.raises(ValidationError) as raised:
        compute_fees(schedule=schedule(PER_M2), answers={"floor_area": "big"}, on_date=ON)
    assert list(raised.value.message_dict) == ["floor_area"]


def test_the_late_penalty_is_ten_percent_of_the_permit_after_31_march_only() -> None:
    rules = schedule(RATE_CARD, PENALTY)
    answers = {"category": "salon", "ward": "0453"}
    on_31_march = compute_fees(schedule=rules, answers=answers, on_date=date(2026, 3, 31))
    on_1_april = compute_fees(schedule=rules, answers=answers, on_date=date(2026, 4, 1))
    assert amounts(on_31_march) == [("permit", Decimal("10000.00"))]
    assert amounts(on_1_april) == [("permit", Decimal("10000.00")), ("late", Decimal("1000.00"))]
    assert on_1_april.total == Decimal("11000.00")


def test_a_rule_with_conditions_applies_only_to_matching_answers() -> None:
    renewal_penalty = RuleSpec(
        **{**PENALTY.__dict__, "parameters": {**PENALTY.parameters, "when": {"kind": ["renewal"]}}}
    )
    rules = schedule(RATE_CARD, renewal_penalty)
    new = compute_fees(
        schedule=rules,
        answers={"category": "salon", "ward": "0453", "kind": "new"},
        on_date=ON.replace(month=5),
    )
    renewal = compute_fees(
        schedule=rules,
        answers={"category": "salon", "ward": "0453", "kind": "renewal"},
        on_date=ON.replace(month=5),
    )
    assert new.total == Decimal("10000.00")
    assert renewal.total == Decimal("11000.00")


def test_a_penalty_waiver_applies_between_its_dates_and_names_its_authority() -> None:
    rules = schedule(RATE_CARD, PENALTY, WAIVER)
    answers = {"category": "salon", "ward": "0453"}
    before = compute_fees(schedule=rules, answers=answers, on_date=date(2026, 6, 30))
    during = compute_fees(schedule=rules, answers=answers, on_date=date(2026, 7, 1))
    last_day = compute_fees(schedule=rules, answers=answers, on_date=date(2026, 9, 30))
    after = compute_fees(schedule=rules, answers=answers, on_date=date(2026, 10, 1))
    assert before.total == after.total == Decimal("11000.00")
    assert during.total == last_day.total == Decimal("10000.00")
    assert amounts(during) == [("permit", Decimal("10000.00"))]
    assert [(w.rule_code, w.authority, w.amount) for w in during.waivers] == [
        ("amnesty", "Gazette Notice 1 of 2026", Decimal("1000.00"))
    ]
    assert before.waivers == ()


def test_an_amount_waiver_stops_at_zero_and_a_zero_line_leaves_the_bill() -> None:
    waiver = RuleSpec(
        code="relief",
        kind="waiver",
        description_en="Disaster relief",
        order=5,
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
        parameters={"amount": "12000", "authority": "CEC Finance, letter of 3 January 2026"},
    )
    breakdown = compute_fees(
        schedule=schedule(RATE_CARD, FIXED, waiver),
        answers={"category": "salon", "ward": "0453"},
        on_date=ON,
    )
    # In rule order: the 500 certificate, then 10,000 of the permit; 1,500 is left unused.
    assert breakdown.lines == ()
    assert breakdown.total == Decimal("0.00")
    assert breakdown.waivers[0].amount == Decimal("10500.00")


def test_a_percentage_waiver_reduces_each_covered_line_and_says_so() -> None:
    waiver = RuleSpec(
        code="youth",
        kind="waiver",
        description_en="Youth enterprise waiver",
        order=5,
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
        parameters={"percent": "25", "of_streams": ["business-permit"], "authority": "Gazette 7"},
    )
    breakdown = compute_fees(
        schedule=schedule(RATE_CARD, FIXED, waiver),
        answers={"category": "shop", "ward": "0462"},
        on_date=ON,
    )
    assert amounts(breakdown) == [("fee", Decimal("500.00")), ("permit", Decimal("2625.00"))]
    assert breakdown.lines[1].waived == Decimal("875.00")
    assert breakdown.lines[1].description_en == "Business permit: Small shop (KES 875.00 waived)"
    assert breakdown.total == Decimal("3125.00")


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            RuleSpec(code="x", kind="fixed", parameters={"amount": "-1"}, stream_code="s"),
            "zero or more",
        ),
        (RuleSpec(code="x", kind="fixed", parameters={"amount": 1.5}, stream_code="s"), "string"),
        (RuleSpec(code="x", kind="fixed", parameters={"amount": "1"}), "revenue stream"),
        (
            RuleSpec(code="x", kind="waiver", parameters={"percent": "5", "authority": "A"}),
            "first and a last day",
        ),
        (
            RuleSpec(
                code="x",
                kind="waiver",
                parameters={"percent": "5"},
                starts_on=ON,
                ends_on=ON,
            ),
            "authority",
        ),
        (
            RuleSpec(
                code="x",
                kind="penalty",
                parameters={"percent": "5", "after": "13-01"},
                stream_code="s",
            ),
            "month and day",
        ),
        (RuleSpec(code="x", kind="bonus", parameters={}, stream_code="s"), "Unknown rule kind"),
    ],
)
def test_a_malformed_rule_is_refused_with_what_is_wrong(rule: RuleSpec, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_rule(rule)


def test_the_breakdown_survives_storage_as_json() -> None:
    breakdown = compute_fees(
        schedule=schedule(RATE_CARD, PENALTY),
        answers={"category": "salon", "ward": "0453"},
        on_date=date(2026, 5, 1),
    )
    assert FeeBreakdown.from_json(breakdown.as_json()) == breakdown


# --- Properties ---------------------------------------------------------------------------------

money = st.decimals(
    min_value=0, max_value=Decimal("1000000"), places=2, allow_nan=False, allow_infinity=False
)
percent = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31))


@st.composite
def schedules(draw: st.DrawFn) -> tuple[ScheduleSpec, date, date, date, date]:
    """A fixed fee and a rate card, a penalty after a deadline, and a dated waiver."""
    waiver_start = draw(days)
    waiver_end = waiver_start + timedelta(days=draw(st.integers(min_value=0, max_value=400)))
    penalty_start = draw(days)
    penalty_end = penalty_start + timedelta(days=draw(st.integers(min_value=0, max_value=400)))
    use_amount = draw(st.booleans())
    rules = (
        RuleSpec(
            code="a",
            kind="fixed",
            stream_code="s1",
            parameters={"amount": str(draw(money))},
            order=1,
        ),
        RuleSpec(
            code="b",
            kind="rate_card",
            stream_code="s2",
            order=2,
            parameters={
                "lookup": [{"field": "category"}],
                "rows": [
                    {"category": "x", "amount": str(draw(money))},
                    {"category": "*", "amount": str(draw(money))},
                ],
            },
        ),
        RuleSpec(
            code="c",
            kind="per_unit",
            stream_code="s2",
            order=3,
            parameters={"field": "units", "unit_price": str(draw(money))},
        ),
        RuleSpec(
            code="p",
            kind="penalty",
            stream_code="s1",
            order=4,
            starts_on=penalty_start,
            ends_on=penalty_end,
            parameters={
                "percent": str(draw(percent)),
                "after": draw(st.sampled_from(["01-31", "03-31", "06-30", "02-29"])),
            },
        ),
        RuleSpec(
            code="w",
            kind="waiver",
            order=5,
            starts_on=waiver_start,
            ends_on=waiver_end,
            parameters=(
                {"amount": str(draw(money)), "authority": "Gazette"}
                if use_amount
                else {"percent": str(draw(percent)), "authority": "Gazette"}
            ),
        ),
    )
    return schedule(*rules), penalty_start, penalty_end, waiver_start, waiver_end


answers = st.fixed_dictionaries(
    {
        "category": st.sampled_from(["x", "y"]),
        "units": st.decimals(
            min_value=0, max_value=10000, places=2, allow_nan=False, allow_infinity=False
        ).map(str),
    }
)


@settings(max_examples=300, deadline=None)
@given(generated=schedules(), answers=answers, on_date=days)
def test_fees_are_never_negative_and_lines_add_up(
    generated: tuple[ScheduleSpec, date, date, date, date], answers: dict[str, str], on_date: date
) -> None:
    breakdown = compute_fees(schedule=generated[0], answers=answers, on_date=on_date)
    assert all(line.amount > 0 for line in breakdown.lines)
    assert breakdown.total >= 0
    assert breakdown.total == sum((line.amount for line in breakdown.lines), Decimal("0.00"))
    assert all(line.amount == line.amount.quantize(Decimal("0.01")) for line in breakdown.lines)


@settings(max_examples=300, deadline=None)
@given(generated=schedules(), answers=answers, on_date=days)
def test_penalties_and_waivers_apply_only_within_their_dates(
    generated: tuple[ScheduleSpec, date, date, date, date], answers: dict[str, str], on_date: date
) -> None:
    spec, penalty_start, penalty_end, waiver_start, waiver_end = generated
    breakdown = compute_fees(schedule=spec, answers=answers, on_date=on_date)
    if not penalty_start <= on_date <= penalty_end:
        assert all(line.rule_code != "p" for line in breakdown.lines)
    if not waiver_start <= on_date <= waiver_end:
        assert breakdown.waivers == ()
        assert all(line.waived == 0 for line in breakdown.lines)


@settings(max_examples=200, deadline=None)
@given(generated=schedules(), answers=answers, on_date=days)
def test_the_same_answers_on_the_same_day_always_cost_the_same(
    generated: tuple[ScheduleSpec, date, date, date, date], answers: dict[str, str], on_date: date
) -> None:
    first = compute_fees(schedule=generated[0], answers=answers, on_date=on_date)
    reordered = ScheduleSpec(name=generated[0].name, rules=tuple(reversed(generated[0].rules)))
    second = compute_fees(
        schedule=reordered, answers=dict(reversed(list(answers.items()))), on_date=on_date
    )
    assert first == second


@settings(max_examples=200, deadline=None)
@given(generated=schedules(), answers=answers, on_date=days)
def test_a_waiver_never_raises_the_total(
    generated: tuple[ScheduleSpec, date, date, date, date], answers: dict[str, str], on_date: date
) -> None:
    spec = generated[0]
    without_waiver = ScheduleSpec(
        name=spec.name, rules=tuple(r for r in spec.rules if r.kind != "waiver")
    )
    with_waiver = compute_fees(schedule=spec, answers=answers, on_date=on_date)
    baseline = compute_fees(schedule=without_waiver, answers=answers, on_date=on_date)
    assert with_waiver.total <= baseline.total
    assert (
        with_waiver.total + sum((w.amount for w in with_waiver.waivers), Decimal("0.00"))
        == baseline.total
    )
