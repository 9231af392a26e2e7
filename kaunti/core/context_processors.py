from django.conf import settings
from django.http import HttpRequest

from kaunti.core.selectors import get_deployment_county_name


def county(request: HttpRequest) -> dict[str, str]:
    """The deployment county's name for the header and page titles, and its paybill for
    every page that says "pay by paybill"."""
    return {
        "county_name": get_deployment_county_name(),
        "county_code": settings.COUNTY_CODE,
        "paybill": settings.MPESA_SHORTCODE,
    }
