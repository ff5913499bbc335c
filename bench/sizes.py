"""How big each scenario is: the full sizes the published numbers use, and the quick ones of
a smoke test (`python -m bench run --quick`), whose numbers are not for publishing.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    idle_connections: int = 10_000
    idle_hold_s: float = 30
    room_members: int = 1000
    room_rate: float = 20  # messages per second, all senders together
    room_senders: int = 10
    send_s: float = 15
    drain_s: float = 15
    quiet_s: float = 5  # stop draining after this long without a delivery
    flood_s: float = 10
    flood_window: int = 2  # messages a sender may have in flight in the -max scenarios
    chatty_rooms: int = 50
    chatty_members: int = 10
    chatty_rate: float = 200
    posting_senders: int = 50  # members of one room, every one sending (posting)
    handshakes: int = 1000
    storm_connections: int = 1000
    # Handshakes in flight per client process while filling up: few enough that the slowest
    # target answers each within Daphne's 5 s connect timeout.
    open_concurrency: int = 25
    open_timeout: float = 60  # for one handshake
    clients: int = 2  # client processes
    wait_for_quiet_s: float = 60  # at most, for other processes on the machine to calm down
    settle_s: float = 2  # pause between phases, for the server to finish what it was doing

    @property
    def users(self) -> int:
        return max(
            self.idle_connections,
            self.room_members,
            self.chatty_rooms * self.chatty_members,
            self.posting_senders,
            self.handshakes,
            self.storm_connections,
        )

    @property
    def rooms(self) -> int:
        return self.chatty_rooms


FULL = Sizes()
QUICK = Sizes(
    idle_connections=300,
    idle_hold_s=1,
    room_members=100,
    room_rate=20,
    room_senders=5,
    send_s=1.5,
    drain_s=3,
    quiet_s=1,
    flood_s=1.5,
    chatty_rooms=5,
    chatty_members=10,
    chatty_rate=50,
    posting_senders=10,
    handshakes=200,
    storm_connections=200,
    open_timeout=20,
    wait_for_quiet_s=0,  # a smoke test: its numbers are not for publishing
    settle_s=0.5,
)
