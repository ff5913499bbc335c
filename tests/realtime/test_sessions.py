from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from realtime.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_the_project_uses_these_sessions():
    assert settings.SESSION_ENGINE == "realtime.sessions"


def test_a_saved_session_reads_back():
    session = SessionStore()
    session["answer"] = 42
    session.save()
    again = SessionStore(session.session_key)
    assert again["answer"] == 42
    assert again.session_key == session.session_key


def test_an_expired_or_unknown_session_is_empty_and_forgets_its_key():
    session = SessionStore()
    session["answer"] = 42
    session.save()
    Session.objects.filter(pk=session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    expired = SessionStore(session.session_key)
    assert "answer" not in expired
    assert expired.session_key is None
    unknown = SessionStore("x" * 32)
    assert "answer" not in unknown
    assert unknown.session_key is None
