"""The page socket: one WebSocket per browser tab, composed of small parts.

A page opens one socket (`ws-connect` on <body>) whose query string says what the page shows,
e.g. `/ws/?room=general`. Each *part* looks at that and answers which groups to join and which
frame actions it handles: the viewer's personal group, the room's group, and so on. The
consumer itself only authenticates, joins, routes frames to parts, and relays pushed HTML.

Opening a socket takes two calls to the database, whatever the parts: one that authenticates
and runs every part's `load` (what to join), one that runs every part's `catch_up` (what the
page may have missed) once the groups are joined. Both run in a few threads kept for opening
sockets (realtime.sockets.opening), not in the one thread `database_sync_to_async` uses for
everything else. Sockets open a few at a time, in arrival order (realtime.admission).

- parts: what a part is (Part, with empty hooks) and what it may use (Connection, CatchUp).
- urls: the socket's address and the query a page gives it.
- closes: the close codes a socket uses and the messages a page shows.
- opening: who a socket is, whether it may open, and what its parts read.
- dispatch: each frame received, checked and handed to the action it names.
- outgoing: replies and pushes, sent in order without waiting.
- consumer: PageConsumer, one tab's socket from handshake to close.
- pages: every open page socket of the process, closed together when the server stops.
"""
