"""Group delivery once per process.

Channels' usual shape gives every socket its own channel on the layer: a group message is
copied into each member's channel, and each socket runs its own receive loop and dispatch.
With a 1000-member room that is 1000 layer messages, 1000 receives and 1000 dispatches per
chat message, and the layer's per-channel capacity silently drops the overflow.

The hub gives the *process* one channel instead. The first local member of a group adds that
channel to the group; later members only join a set in memory. A group message then arrives
once per process, is framed once (realtime.frames), and the same bytes are written to each
local member's socket. The last member to leave discards the channel from the group.

A person's groups are carried together (`carrier`): with one layer group per person, a fill of
ten thousand people's sockets made thirty thousand group adds, a quarter of the event loop's
time. Their messages name the group they are for; a process drops those for people it does
not hold.

- Joins and leaves of one group are serialised, so a join racing the last leave never ends up
  unsubscribed.
- Memberships are re-added periodically, before the layer's group expiry forgets them.
- Each message, and each member's delivery of it, is handled on its own: one that fails (a
  message of an unknown shape after a deploy, a member that raises) is logged, counted in
  `relay_hub_failures`, and the rest goes on. If the reader ever ends, it is restarted and
  every member asked to resume.
- If receiving from the layer fails (Redis restarted), the hub re-adds every group, retrying
  until all are back, and then tells each member that it may have missed messages; sockets
  then close with 1012 and the page reconnects and resumes from its cursor.
- Pushes are numbered per sender and carrier (realtime.sequence): a number that never
  arrives (dropped at capacity, lost in a failover) makes the members of that carrier resume
  before the push that revealed it is shown to them.
- A probe sent to the process's own probe groups (one on each Redis host) every
  HUB_PROBE_SECONDS must come back: if Redis lost its keys while connections stayed up
  (FLUSHALL, a failover to an empty replica, one shard of several restarted), the hub's
  subscriptions are gone without an error, and only the missing probe tells.

- messages: what the hub carries (pushes, leaves, session changes), and each group's carrier.
- hub: the Hub, one per event loop (`get_hub`): the process's members of each group, joining,
  leaving and handing each message to them; its reader, supervised, and recovery after a
  layer failure.
- members: the local members of each group (a group of one holds its member without a set).
- probes: the probe that finds subscriptions the layer lost without an error.
- failures: counting and logging what could not be handled, without flooding the log.
"""
