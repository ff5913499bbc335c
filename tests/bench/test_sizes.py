"""`python -m bench run --size NAME=VALUE`: one size changed, the others as they were."""

import argparse

import pytest

from bench.__main__ import main, with_sizes
from bench.sizes import FULL


def test_a_size_is_read_as_the_type_of_its_field():
    sizes = with_sizes(FULL, [("storm_connections", "10000"), ("flood_s", "2.5")])
    assert (sizes.storm_connections, sizes.flood_s) == (10_000, 2.5)
    assert sizes.idle_connections == FULL.idle_connections


@pytest.mark.parametrize(
    ("pair", "error"),
    [
        (("storm_people", "5"), "no size named 'storm_people'"),
        (("storm_connections", "many"), "storm_connections must be int, got 'many'"),
    ],
)
def test_an_unknown_size_or_a_bad_value_is_refused(pair, error):
    with pytest.raises(argparse.ArgumentTypeError, match=error):
        with_sizes(FULL, [pair])


def test_the_command_refuses_a_bad_size_before_running_anything(capsys):
    assert main(["run", "--targets", "app", "--size", "storm_connections=many"]) == 2
    assert "storm_connections must be int" in capsys.readouterr().err
