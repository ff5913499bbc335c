import pytest
from django.test import RequestFactory

from realtime.http import client_address


@pytest.mark.parametrize(
    ("remote", "address"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:DB8:0::1", "2001:db8::1"),
        ("", None),
        ("unknown", None),
        ("203.0.113.7, 198.51.100.1", None),
        ("203.0.113.999", None),
        ("unix:/run/daphne.sock", None),
        ("fe80::1%eth0", None),  # scoped: PostgreSQL's inet refuses it
    ],
)
def test_client_address_is_an_ip_address_or_none(remote, address):
    assert client_address(RequestFactory().get("/", REMOTE_ADDR=remote)) == address
