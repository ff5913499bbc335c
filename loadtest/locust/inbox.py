"""What one load-test user has seen, across its reconnections: per sender, which sequence
numbers arrived, so that each frame is told new, late (it fills a gap) or a duplicate.

Plain Python, no Locust: the tests use it directly.
"""

from enum import Enum


class Seen(Enum):
    NEW = "new"
    LATE = "late"  # new, but after a later one from the same sender (fills a gap)
    DUPLICATE = "duplicate"


class SenderSequence:
    """Which of one sender's sequence numbers a user has seen. Keeps only the gaps, so it
    stays small while delivery is complete."""

    __slots__ = ("missing", "next")

    def __init__(self) -> None:
        self.next: int | None = None
        self.missing: set[int] = set()

    def see(self, seq: int) -> Seen:
        if self.next is None or seq == self.next:
            self.next = seq + 1
            return Seen.NEW
        if seq > self.next:
            self.missing.update(range(self.next, seq))
            self.next = seq + 1
            return Seen.NEW
        if seq in self.missing:
            self.missing.discard(seq)
            return Seen.LATE
        return Seen.DUPLICATE


class Inbox:
    """Everything one load-test user has seen, across its reconnections."""

    def __init__(self) -> None:
        self.senders: dict[str, SenderSequence] = {}

    def see(self, sender: str, seq: int) -> Seen:
        sequence = self.senders.get(sender)
        if sequence is None:
            sequence = self.senders[sender] = SenderSequence()
        return sequence.see(seq)
