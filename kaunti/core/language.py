"""Reference data in the reader's language (ADR 15).

Every row of reference data (departments, revenue streams, ledger accounts, complaint
categories, services, workflow steps) holds its English name and its Kiswahili name;
`in_language` picks the one for the active language, falling back to English while a
Kiswahili name is missing. Models expose it as `localized_name`, which their `__str__`
returns, so a template's `{{ department }}`, a form's choice and a PDF all agree.
"""

from collections.abc import Callable

from django.utils import translation


def in_language(english: str, swahili: str, language: str | None = None) -> str:
    """`swahili` when the language (by default the active one) is Kiswahili and it is set."""
    language = language or translation.get_language() or "en"
    return swahili if language.startswith("sw") and swahili else english


def in_both_languages(render: Callable[[], str]) -> tuple[str, str]:
    """`render()` once in English and once in Kiswahili: the two texts a row stores
    (a bill's description) so that each reader sees their own, whoever raised it."""
    with translation.override("en"):
        english = str(render())
    with translation.override("sw"):
        swahili = str(render())
    return english, swahili
