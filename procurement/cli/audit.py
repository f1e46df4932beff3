"""CLI commands (being written)."""


def register(sub) -> None:
    """Add this group's commands to the `procurement` parser."""
