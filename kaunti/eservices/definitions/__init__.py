"""A service version's declarative parts: its form, its required documents, its workflow.

Operators write these as JSON (in the admin or the catalogue data files); this package
checks them when a version is saved or published, and reads them when an application is
filled in and processed. Field labels come in English and Kiswahili; validation
messages are given in the active language, with the field's label in that language.

Import from the module that holds what you need (`form`, `answers`, `documents`,
`workflow`, `version`, `language`).
"""
