from tests.livesystem import live_system  # noqa: F401 - the fixture
