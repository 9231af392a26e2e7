"""Links to each app's pages, contributed at start-up: the staff home's list of work, the
citizen's account page, and the public home page (what anyone can reach without signing in).

An app registers its staff pages in `AppConfig.ready` with the action a person must be
allowed to see them; the staff home shows each person the links they may use. The
registries are filled once at start-up, identically on every node, and only read after.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise


@dataclass(frozen=True)
class StaffLink:
    """A staff page on the staff home, shown to who may do `action` in some department,
    or, when the app gives `allowed`, to whom `allowed(user)` says (for pages whose action
    only some departments' roles grant, e.g. land's). Give a module-level function, so that
    registering the same link twice still finds it registered."""

    label: str | Promise
    url_name: str
    action: str
    order: int = 100
    allowed: Callable[[Any], bool] | None = None


@dataclass(frozen=True)
class CitizenLink:
    label: str | Promise
    url_name: str
    order: int = 100


@dataclass(frozen=True)
class PublicLink:
    """A page anyone may open without signing in, listed on the home page."""

    label: str | Promise
    url_name: str
    description: str | Promise = ""
    order: int = 100


_links: list[StaffLink] = []
_citizen_links: list[CitizenLink] = []
_public_links: list[PublicLink] = []


def register_staff_link(link: StaffLink) -> None:
    if link not in _links:
        _links.append(link)


def staff_links() -> list[StaffLink]:
    return sorted(_links, key=lambda link: (link.order, str(link.label)))


def register_citizen_link(link: CitizenLink) -> None:
    if link not in _citizen_links:
        _citizen_links.append(link)


def citizen_links() -> list[CitizenLink]:
    return sorted(_citizen_links, key=lambda link: (link.order, str(link.label)))


def register_public_link(link: PublicLink) -> None:
    if link not in _public_links:
        _public_links.append(link)


def public_links() -> list[PublicLink]:
    return sorted(_public_links, key=lambda link: (link.order, str(link.label)))
