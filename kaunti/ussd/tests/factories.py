"""Factories for the USSD tests' rows."""

from factory.django import DjangoModelFactory

from kaunti.ussd.models import PhoneLanguage
from kaunti.ussd.tests.conftest import MSISDN


class PhoneLanguageFactory(DjangoModelFactory[PhoneLanguage]):
    """The language a phone chose on an earlier visit (default: the test handset, English),
    so that dialling goes straight to the main menu."""

    class Meta:
        model = PhoneLanguage

    phone = MSISDN
    language = "en"
