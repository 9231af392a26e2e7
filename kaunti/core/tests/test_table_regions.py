"""Wide tables scroll inside their own region on a phone, and the language switch is in
the header's landmark (the browser checks the widths: land/tests/test_browser_phone.py)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import Client

TEMPLATES = sorted(
    path
    for path in (Path(settings.BASE_DIR) / "kaunti").rglob("*.html")
    if "static" not in path.parts
)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: path.name)
def test_every_table_of_every_template_is_in_a_scrolling_region(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    depth, outside = 0, []
    for match in re.finditer(r"\{% (end)?table_region\b[^%]*%\}|<table\b", text):
        if match.group(0).startswith("<table"):
            if depth == 0:
                outside.append(text.count("\n", 0, match.start()) + 1)
        else:
            depth += -1 if match.group(1) else 1
    assert outside == [], f"tables outside {{% table_region %}} at lines {outside}"


def test_a_region_is_named_by_the_table_s_caption_and_takes_the_keyboard_s_focus() -> None:
    html = Template(
        "{% load kaunti %}{% table_region %}<table><caption>Bills to pay</caption></table>"
        "{% endtable_region %}"
    ).render(Context())
    [caption_id] = re.findall(r'<caption id="([^"]+)">Bills to pay</caption>', html)
    assert html == (
        f'<div class="kaunti-table-scroll" role="region" aria-labelledby="{caption_id}" '
        f'tabindex="0"><table><caption id="{caption_id}">Bills to pay</caption></table></div>'
    )


def test_a_region_without_a_caption_is_named_by_its_label() -> None:
    html = Template(
        '{% load kaunti %}{% table_region _("Owners") %}<table></table>{% endtable_region %}'
    ).render(Context())
    assert html == (
        '<div class="kaunti-table-scroll" role="region" aria-label="Owners" tabindex="0">'
        "<table></table></div>"
    )


def test_a_caption_s_own_id_names_the_region() -> None:
    html = Template(
        '{% load kaunti %}{% table_region %}<table><caption class="c" id="fees">Fees</caption>'
        "</table>{% endtable_region %}"
    ).render(Context())
    assert html.startswith(
        '<div class="kaunti-table-scroll" role="region" aria-labelledby="fees" tabindex="0">'
        '<table><caption class="c" id="fees">Fees</caption>'
    )


def test_a_region_with_neither_a_caption_nor_a_label_is_still_named() -> None:
    html = Template(
        "{% load kaunti %}{% table_region %}<table></table>{% endtable_region %}"
    ).render(Context())
    assert html == (
        '<div class="kaunti-table-scroll" role="region" aria-label="Table" tabindex="0">'
        "<table></table></div>"
    )


def test_the_language_switch_is_inside_the_header_landmark(client: Client, db: None) -> None:
    page = client.get("/").content.decode()
    header = page[page.index('<header class="govuk-header') : page.index("</header>")]
    assert 'name="language" value="sw"' in header
    assert 'name="language" value="sw"' not in page[page.index("</header>") :]
