"""Land and ledger pages on a 360-pixel phone, in a real browser: wide tables scroll inside
their own named, focusable region (the page itself never scrolls sideways), the map's
table is shown a page at a time, the pagination text is readable (contrast 4.5:1 or more)
and the language switch is inside the header's landmark."""

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from kaunti.core.models import Ward
from kaunti.land.models import LandUse
from kaunti.land.tests import test_pages_land as shared
from kaunti.land.tests.test_browser_land import sign_in
from kaunti.land.tests.test_pages_land import LandWorld

land_world = shared.land_world

PHONE_WIDTH = 360
# The relative luminance contrast of two CSS colours, as WCAG 2 defines it.
CONTRAST = """([foreground, background]) => {
  const luminance = (css) => {
    const [r, g, b] = css.match(/[\\d.]+/g).slice(0, 3).map((value) => {
      const channel = Number(value) / 255;
      return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [light, dark] = [luminance(foreground), luminance(background)].sort((a, b) => b - a);
  return (light + 0.05) / (dark + 0.05);
}"""


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-GB", viewport={"width": PHONE_WIDTH, "height": 740})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


@pytest.mark.browser
def test_the_rates_balance_fits_a_phone_and_its_table_scrolls_in_its_own_region(
    live_server: Any, transactional_db: None, land_world: LandWorld, phone_page: Page
) -> None:
    page = phone_page
    page.goto(live_server.url + "/land/rates-balance/")
    expect(page.get_by_role("banner").get_by_role("button", name="Kiswahili")).to_be_visible()
    page.get_by_label("Parcel number").fill(land_world.p1.number)
    page.get_by_role("button", name="Check the balance").click()

    region = page.get_by_role("region", name="Bills to pay")
    expect(region).to_have_attribute("tabindex", "0")
    expect(region.locator("table#balance-bills")).to_be_visible()
    assert page_width(page) <= PHONE_WIDTH
    region.focus()
    expect(region).to_be_focused()


@pytest.mark.browser
def test_the_trial_balance_fits_a_phone(
    live_server: Any,
    transactional_db: None,
    land_world: LandWorld,
    make_staff: Any,
    phone_page: Page,
) -> None:
    page = phone_page
    sign_in(page, live_server.url, make_staff(["revenue_officer"], department="revenue"))
    page.goto(live_server.url + "/staff/ledger/")
    region = page.locator(".kaunti-table-scroll[role=region]")
    expect(region).to_have_count(1)
    expect(region).to_have_attribute("tabindex", "0")
    assert page_width(page) <= PHONE_WIDTH


@pytest.mark.browser
def test_the_map_lists_its_parcels_a_page_at_a_time_in_readable_pagination(
    live_server: Any,
    transactional_db: None,
    land_world: LandWorld,
    make_staff: Any,
    phone_page: Page,
) -> None:
    karau = Ward.objects.get(code="0453")
    for index in range(26):  # 30 parcels in Ol Kalou with the four of the land world
        shared._parcel(
            f"NYANDARUA/OL KALOU/{2000 + index}",
            karau,
            shared.square(36.380 + 0.0012 * (index % 13), -0.276 - 0.0012 * (index // 13)),
            LandUse.RESIDENTIAL,
            [(f"Owner {index}", f"{30000000 + index}")],
        )
    page = phone_page
    sign_in(page, live_server.url, make_staff(["land_officer"], department="lands"))
    page.goto(live_server.url + "/staff/land/map/")
    expect(page.locator("#land-map-count")).to_have_text("30 parcels in this view.")

    rows = page.locator("#land-map-rows tr")
    pages = page.get_by_role("navigation", name="Pages")
    expect(rows).to_have_count(25)
    expect(pages.locator("#land-map-page")).to_have_text("Page 1 of 2")
    expect(pages.get_by_role("link", name="Previous")).to_be_hidden()
    pages.get_by_role("link", name="Next").click()
    expect(rows).to_have_count(5)
    expect(pages.locator("#land-map-page")).to_have_text("Page 2 of 2")
    expect(pages.get_by_role("link", name="Next")).to_be_hidden()
    expect(
        page.get_by_role("region", name="Parcels shown on the map, with their rates status")
    ).to_be_focused()

    colours = page.evaluate(
        """() => {
          const text = document.getElementById("land-map-page");
          return [getComputedStyle(text).color,
                  getComputedStyle(text.closest("li")).backgroundColor];
        }"""
    )
    assert page.evaluate(CONTRAST, colours) >= 4.5, colours
    assert page_width(page) <= PHONE_WIDTH
