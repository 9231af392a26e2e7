"""The land pages' entries in the staff home and the citizen's account page."""


def register_links() -> None:
    """Called once from `LandConfig.ready`."""
