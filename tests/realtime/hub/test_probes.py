"""realtime.hub.probes: finding lost subscriptions by a probe group on every host."""

import pytest
from channels.layers import InMemoryChannelLayer
from channels_redis.core import _consistent_hash

from realtime import metrics
from realtime.hub.hub import Hub
from realtime.hub.messages import push_event
from realtime.hub.probes import probe_groups
from tests.realtime.hub.doubles import CountingLayer, Socket
from tests.waiting import until

pytestmark = pytest.mark.asyncio


class ShardedLayer(CountingLayer):
    """Two Redis hosts, as channels-redis places groups on them; one can restart empty."""

    ring_size = 2

    def consistent_hash(self, value: str) -> int:
        return int(_consistent_hash(value, self.ring_size))

    def lose_host(self, index: int) -> None:
        for group in [g for g in self.groups if self.consistent_hash(g) == index]:
            del self.groups[group]


async def test_there_is_a_probe_group_on_every_host():
    layer = ShardedLayer()
    names = probe_groups(layer)
    assert [layer.consistent_hash(name) for name in names] == [0, 1]
    assert len(probe_groups(InMemoryChannelLayer())) == 1


async def test_a_host_that_restarted_empty_is_found_by_its_probe(monkeypatch):
    monkeypatch.setattr("realtime.hub.probes.PROBE_IDLE", 0.02)
    layer = ShardedLayer()
    hub = Hub(layer, refresh_every=3600, probe_every=0.02, probe_deadline=0.02)
    socket = Socket()
    await hub.join("room", socket)
    await until(lambda: hub.prober.sent >= 2)
    assert socket.interruptions == 0

    # The host holding the room's group restarts empty; this process reads from the other
    # one, so no call fails: only the probe through the lost host does not come back.
    layer.lose_host(layer.consistent_hash("room"))
    await until(lambda: socket.interruptions == 1)
    await layer.group_send("room", push_event("room", "<p>live again</p>"))
    await until(lambda: socket.received == ["<p>live again</p>"])
    await hub.leave("room", socket)


async def test_lost_subscriptions_are_found_by_the_probe_and_restored(monkeypatch):
    monkeypatch.setattr("realtime.hub.probes.PROBE_IDLE", 0.02)
    hub = Hub(CountingLayer(), refresh_every=3600, probe_every=0.02, probe_deadline=0.02)
    socket = Socket()
    await hub.join("room", socket)
    await until(lambda: hub.prober.sent >= 2)
    assert socket.interruptions == 0  # probes come back while all is well
    before = metrics.HUB_PROBES_LOST._value.get()

    hub.layer.groups.clear()  # the layer forgot every subscription, and said nothing
    await until(lambda: socket.interruptions == 1)
    assert metrics.HUB_PROBES_LOST._value.get() - before == 1
    await hub.layer.group_send("room", push_event("room", "<p>live again</p>"))
    await until(lambda: socket.received == ["<p>live again</p>"])

    # Once nobody is left, the probe group goes too: nothing stays behind in the layer.
    [probe_group] = hub.prober.groups
    await hub.leave("room", socket)
    assert hub.layer.discards == ["room", probe_group]
    assert hub.layer.groups == {}
