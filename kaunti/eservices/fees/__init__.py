"""The fee engine: a county Finance Act's schedule applied to an application's answers.

Pure and deterministic: `compute_fees` reads nothing but its arguments, so the breakdown
an applicant sees before submitting is exactly the bill raised on submission, and the
same answers on the same day always cost the same. Fees are set by each county's annual
Finance Act (Constitution Art. 209(4); PFM Act s. 161), are varied only with public
participation (County Licensing (Uniform Procedures) Act 2024), and so live in data that
names its Act and its dates, never in code.

Rules, applied in their order:

- `fixed`: an amount.
- `rate_card`: an amount looked up by answers (e.g. business category and size) and by
  a zone derived from the ward.
- `per_unit`: a price per unit of a numeric answer (e.g. per m² of floor area), with an
  optional minimum and maximum charge.
- `penalty`: a percentage of earlier lines (e.g. 10% of the permit fee after 31 March).
- `waiver`: a percentage or an amount off earlier lines, granted by a named authority
  between two dates (the County Governments (Revenue Raising Process) Bill 2023 asks
  that every waiver be recorded).

Any rule may carry `when` (answers it applies to) and `starts_on`/`ends_on` (days it
applies on). Amounts are `Decimal`, rounded half-up to the cent, and never negative: a
waiver stops at zero and a line that comes to zero is left off the bill.

The package holds the plain data (`schedules`), the checked rules (`rules`), the
computation (`engine`) and its result (`breakdown`); import from the module that holds
what you need.
"""
