"""Root pytest configuration. Fixtures live in plugin modules, one per area, named for what
they give; the pack-test collector (rules/<pack>/tests/*.yaml) is one of them."""

pytest_plugins = [
    "tests.fixtures.packs",
    "tests.fixtures.db",
    "tests.fixtures.services",
    "tests.fixtures.sharing",
    "tests.fixtures.smtp",
]
