"""Dates and numbers the Kenyan way, in English and Kiswahili (settings.FORMAT_MODULE_PATH).

Django's own English formats are American (12/07/2026 for 7 December) and its Kiswahili
ones group no thousands (343000000). Kenya writes the day first and groups thousands
with a comma in both languages; see docs/glossary.md.
"""
