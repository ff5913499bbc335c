"""Prometheus metrics of this server process, served at /metrics."""

from prometheus_client import Counter, Gauge, Histogram

SOCKETS = Gauge("relay_open_sockets", "WebSocket connections open in this process")
GROUPS = Gauge("relay_subscribed_groups", "Groups this process receives (one subscription each)")
MEMBERSHIPS = Gauge("relay_group_memberships", "Socket memberships in groups, in this process")
DELIVERIES = Counter("relay_deliveries", "Group messages written to local sockets")
DROPS = Counter(
    "relay_slow_socket_drops", "Sockets closed because their outgoing backlog overflowed"
)
PUSHES_DROPPED = Counter(
    "relay_pushes_dropped", "Pushes not sent: the channel layer failed or fell too far behind"
)
HUB_FAILURES = Counter(
    "relay_hub_failures",
    "Layer messages the hub could not handle (kind=message), member deliveries that raised "
    "(kind=member), and restarts of the hub's reader (kind=reader)",
    ["kind"],
)
HUB_GAPS = Counter(
    "relay_hub_gaps",
    "Pushes that never arrived (a sequence number skipped); their sockets were asked to resume",
)
HUB_PROBES_LOST = Counter(
    "relay_hub_probes_lost",
    "Probes that did not come back (the layer lost this process's subscriptions); each made "
    "the hub subscribe again and its sockets resume",
)
PUSH_LATENCY = Histogram(
    "relay_push_latency_seconds",
    "From group_send to arrival at this process's hub",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
PAGEVIEWS_DROPPED = Counter(
    "relay_pageviews_dropped", "Pageviews not counted: the channel was full or unreachable"
)
REFUSALS = Counter(
    "relay_socket_refusals", "Sockets closed right after opening, by close code", ["code"]
)
ADMISSION_WAIT = Histogram(
    "relay_socket_admission_wait_seconds",
    "How long new sockets waited for their turn to open (realtime.admission)",
    buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
)
