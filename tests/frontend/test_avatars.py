import pytest

from frontend.avatars import HUES, hue, initials


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ada", "AD"),
        ("grace_hopper", "GH"),
        ("linus.t", "LT"),
        ("x", "X"),
        ("", "?"),
        ("émile", "ÉM"),
    ],
)
def test_initials(name, expected):
    assert initials(name) == expected


def test_a_name_always_has_the_same_hue():
    assert hue("ada") == hue("ada")
    assert 0 <= hue("ada") < HUES
    assert {hue(name) for name in ("ada", "grace", "linus", "margaret", "alan")} != {hue("ada")}
