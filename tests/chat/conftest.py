from collections.abc import Iterator

import pytest

from tests.servers import PageServer


@pytest.fixture
def site() -> Iterator[PageServer]:
    """A local stand-in for the sites people link to, on 127.0.0.1."""
    with PageServer() as server:
        yield server


@pytest.fixture
def allow_local_site(settings) -> None:
    """The test site's address is loopback, which the previewer refuses unless allow-listed."""
    settings.LINK_PREVIEW_ALLOWED_NETWORKS = ["127.0.0.1/32"]
