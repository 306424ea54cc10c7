"""Django's database sessions, read through the pages cache (issue 7).

``SESSION_ENGINE = "members.sessions"``. Sessions are stored in the database
as with ``django.contrib.sessions.backends.db``; a session read is kept in the
process's ``pages`` cache under the sessions token (``members.pagecache``),
which changes after every committed write to the session table: a sign-in,
a sign-out, a changed session anywhere is seen by every process on its next
request. The expiry date is kept with the data and checked on every read, so
an expired session is never used. With the pages cache off (tests), each read
is a query, as Django's own.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.utils import timezone

from .pagecache import SESSIONS, remember


class SessionStore(db.SessionStore):
    """A database session whose reads are cached under the sessions token."""

    def load(self) -> dict:
        """The session's data, or ``{}`` (and no key) if it is missing or expired.

        Only sessions that exist are cached: an unknown key costs a query each time.
        """
        row = remember("session", (self.session_key,), self._row, on=SESSIONS,
                       keep=lambda found: found is not None)
        if row is None or row[1] <= timezone.now():
            self._session_key = None
            return {}
        return row[0]  # the cache hands out a fresh copy (it pickles)

    def _row(self) -> tuple[dict, object] | None:
        session = self._get_session_from_db()  # None when missing or expired
        if session is None:
            return None
        return self.decode(session.session_data), session.expire_date
