"""Django's and allauth's authentication backends, reading the signed-in person
through the pages cache (issue 7).

Every request of a signed-in person loads them (``request.user``). Kept under
the content version (``members.pagecache.remember``), a page served from the
cache costs no query for the person: any change to people, their trust or
their groups gives the content version a new token, and the next request
reads the person afresh (a deactivated person is signed out at once).
"""

from __future__ import annotations

from allauth.account import auth_backends as allauth_backends
from django.contrib.auth import backends as django_backends

from .pagecache import remember


class _CachedPerson:
    def get_user(self, user_id):
        """The active person with primary key ``user_id``, or None (as Django's backend).

        Read through ``members.pagecache.remember``: one query the first time
        for each content version and minute, none after.
        """
        parent = super()

        return remember("person", (type(self).__name__, str(user_id)),
                        lambda: parent.get_user(user_id))


class ModelBackend(_CachedPerson, django_backends.ModelBackend):
    """Django's ``ModelBackend`` (the admin, ``force_login``), person cached."""


class AuthenticationBackend(_CachedPerson, allauth_backends.AuthenticationBackend):
    """allauth's backend (sign-in by emailed code), person cached."""
