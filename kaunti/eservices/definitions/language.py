"""Definitions carry their words in English and Kiswahili: which one to read now."""

from django.utils import translation


def pick(language: str, english: str, swahili: str) -> str:
    """The Kiswahili text for a Kiswahili reader where there is one; else the English."""
    return swahili if language == "sw" and swahili else english


def current_language() -> str:
    """ "en" or "sw": the language messages and labels are given in right now."""
    return "sw" if (translation.get_language() or "en").startswith("sw") else "en"
