"""Django's database sessions, read with a prepared query (realtime.prepared).

Every page socket reads its session when it opens, and every request its own; building the
ORM query each time cost more than the database took to answer it.
"""

from datetime import datetime

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from realtime.prepared import PreparedQuery

_session = PreparedQuery(
    lambda session_key: Session.objects.filter(session_key=session_key), session_key=str
)


class SessionStore(db.SessionStore):
    # When the stored session expires, once read (page sockets close then: realtime.sockets).
    expire_date: datetime | None = None

    def _get_session_from_db(self) -> Session | None:
        found = _session(session_key=self.session_key) if self.session_key else []
        if found and found[0].expire_date > timezone.now():
            self.expire_date = found[0].expire_date
            return found[0]
        self._session_key = None
        return None
