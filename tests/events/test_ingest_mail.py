"""``manage.py ingest_mail PATH...`` on .eml files, a directory of them, and a Maildir."""

from __future__ import annotations

import mailbox
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from events.management.commands import ingest_mail
from events.models import Invitation
from tests.events.replies import (
    CORPUS,
    corpus_bytes,
    corpus_files,
    invitation_state,
    make_reply_meeting,
)

pytestmark = pytest.mark.django_db

# The corpus as a whole (see tests/events/replies/README.md).
TOTALS = "14 messages: 1 delivery report, 5 ignored, 1 not a calendar reply, 7 recorded"


@pytest.fixture
def meeting():
    return make_reply_meeting()


def run(*paths) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("ingest_mail", *[str(p) for p in paths], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_eml_files_one_line_each_and_totals(meeting):
    accepted = CORPUS / "outlook-exchange-accepted.eml"
    unknown = CORPUS / "outlook-unknown-uid.eml"
    plain = CORPUS / "not-calendar.eml"

    out, err = run(accepted, unknown, plain)

    lines = out.splitlines()
    assert lines[0] == (f"{accepted}: recorded: jo.smith@nhs.net for "
                        f"{meeting.uid} attending")
    assert lines[1].startswith(f"{unknown}: ignored (unknown UID): amira.khan3@nhs.net for ")
    assert lines[2] == f"{plain}: not a calendar reply"
    assert lines[3] == "3 messages: 1 ignored, 1 not a calendar reply, 1 recorded"
    assert err == ""
    jo = Invitation.objects.get(meeting=meeting, person__email="jo.smith@nhs.net")
    assert jo.response == Invitation.Response.ATTENDING


def test_a_directory_of_eml_files(meeting):
    out, _err = run(CORPUS)
    lines = out.splitlines()
    assert [line.split(": ", 1)[0] for line in lines[:-1]] == [str(p) for p in corpus_files()]
    assert lines[-1] == TOTALS


def test_a_second_run_changes_nothing(meeting):
    run(CORPUS)
    first = invitation_state(meeting)
    out, _err = run(CORPUS)
    assert out.splitlines()[-1] == (
        "14 messages: 1 delivery report, 12 ignored, 1 not a calendar reply")
    assert out.count("ignored (already recorded)") == 7
    assert invitation_state(meeting) == first


def test_a_maildir_exported_from_the_mailbox(meeting, tmp_path):
    box = mailbox.Maildir(tmp_path / "Inbox", create=True)
    for index, path in enumerate(corpus_files()):
        message = mailbox.MaildirMessage(path.read_bytes())
        if index % 2:  # already read: in cur/ with the S flag
            message.set_subdir("cur")
            message.add_flag("S")
        box.add(message)
    box.close()
    assert any((tmp_path / "Inbox" / "cur").iterdir())
    assert any((tmp_path / "Inbox" / "new").iterdir())

    out, err = run(tmp_path / "Inbox")

    lines = out.splitlines()
    assert len(lines) == 15
    assert all(line.startswith(f"{tmp_path / 'Inbox'} [") for line in lines[:-1])
    assert lines[-1] == TOTALS
    assert err == ""
    recorded = Invitation.objects.filter(meeting=meeting,
                                         answered_via=Invitation.Source.CALENDAR).count()
    assert recorded == 7


def test_a_maildir_without_tmp_as_some_exports_leave_it(meeting, tmp_path):
    for sub in ("cur", "new"):
        (tmp_path / "export" / sub).mkdir(parents=True)
    (tmp_path / "export" / "new" / "1736590503.M1P1.sighub").write_bytes(
        corpus_bytes("apple-mail-tentative.eml"))
    out, _err = run(tmp_path / "export")
    assert out.splitlines()[-1] == "1 message: 1 recorded"


def test_a_missing_path_is_reported_and_the_rest_still_read(meeting, tmp_path):
    out, err = run(tmp_path / "nowhere.eml", CORPUS / "gmail-accepted.eml")
    assert f"{tmp_path / 'nowhere.eml'}: no such file or directory" in err
    assert out.splitlines()[-1] == "1 message: 1 recorded; 1 problem(s)"


def test_nothing_readable_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CommandError, match="No messages could be read"):
        run(tmp_path / "nowhere.eml", tmp_path / "empty")


def test_an_unreadable_file_is_reported(meeting, tmp_path, monkeypatch):
    locked = tmp_path / "locked.eml"
    locked.write_bytes(corpus_bytes("gmail-accepted.eml"))
    shutil.copy(CORPUS / "thunderbird-declined.eml", tmp_path / "ok.eml")
    real_read = Path.read_bytes

    def read_bytes(path):
        if path.name == "locked.eml":
            raise PermissionError(13, "Permission denied")
        return real_read(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    out, err = run(tmp_path)
    assert f"{locked}: cannot read (Permission denied)" in err
    assert out.splitlines()[-1] == "1 message: 1 recorded; 1 problem(s)"


def test_a_message_that_fails_never_stops_the_rest(meeting, monkeypatch):
    real = ingest_mail.ingest_message

    def flaky(raw):
        if b"Tom Hughes" in raw:
            raise RuntimeError("something broke")
        return real(raw)

    monkeypatch.setattr(ingest_mail, "ingest_message", flaky)
    out, err = run(CORPUS / "thunderbird-declined.eml", CORPUS / "apple-mail-tentative.eml")
    assert "thunderbird-declined.eml: failed (RuntimeError: something broke)" in err
    assert out.splitlines()[-1] == "2 messages: 1 failed, 1 recorded"


def test_an_empty_file_is_unreadable_not_fatal(meeting, tmp_path):
    (tmp_path / "empty.eml").write_bytes(b"")
    out, _err = run(tmp_path / "empty.eml")
    assert out.splitlines() == [f"{tmp_path / 'empty.eml'}: unreadable: empty message",
                                "1 message: 1 unreadable"]
