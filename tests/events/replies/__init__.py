"""The reply corpus: emails shaped like real calendar replies, and the meeting they answer.

Each ``.eml`` file here is one message as delivered (CRLF line ends, real
MIME structure and transfer encodings), described with its expected outcome
in ``README.md``. Every calendar reply answers :data:`MEETING_UID`, except
the ones meant to be ignored for their UID. :func:`make_reply_meeting`
creates that meeting with the people the corpus writes as.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from django.utils import timezone

from events.models import Invitation, Meeting
from tests.factories import MeetingFactory, PersonFactory, SIGFactory

CORPUS = Path(__file__).resolve().parent
MEETING_UID = "3f0c9a52-7d1e-4b8a-9c55-2a6e1f4d7b10@sighub"
MEETING_TITLE = "Paediatric MSK ultrasound update"
# Tuesday 9 February 2027, 14:00-15:30 in London (GMT): after the tests' clock.
MEETING_START = datetime(2027, 2, 9, 14, 0, tzinfo=UTC)
MEETING_END = datetime(2027, 2, 9, 15, 30, tzinfo=UTC)
# The meeting was updated once: the corpus answers SEQUENCE 1 (one answers 0).
MEETING_SEQUENCE = 1

# Invited, with a current invitation: the addresses the corpus replies from.
INVITED = {
    "jo.smith@nhs.net": "Jo Smith",
    "ben.ode@uhb.nhs.uk": "Ben Ode",
    "rachel.okafor@swbh.nhs.uk": "Rachel Okafor",
    "amira.khan3@nhs.net": "Amira Khan",
    "tom.hughes@nhs.net": "Tom Hughes",
    "chris.evans@nhs.net": "Chris Evans",
    "priya.shah@nhs.net": "Priya Shah",
}
# Invited once, then taken off the meeting (left the group): a CANCEL went to them.
REMOVED = "left.trust@nhs.net"
# Known to SIG Hub but never invited (a colleague the invitation was forwarded to).
NOT_INVITED = "mark.jones@nhs.net"


def corpus_files() -> list[Path]:
    """Every ``.eml`` file of the corpus, sorted by name."""
    return sorted(CORPUS.glob("*.eml"))


def corpus_bytes(name: str) -> bytes:
    """The raw bytes of one corpus message, e.g. ``corpus_bytes("gmail-accepted.eml")``."""
    return (CORPUS / name).read_bytes()


def make_reply_meeting() -> Meeting:
    """The meeting the corpus answers: fixed UID, SEQUENCE 1, everyone in :data:`INVITED`.

    Also a withdrawn invitation for :data:`REMOVED` and a person
    :data:`NOT_INVITED` with no invitation. No mail is sent.
    """
    group = SIGFactory(name="Paediatric Imaging", slug="paediatric-imaging")
    meeting = MeetingFactory(
        group=group, uid=MEETING_UID, title=MEETING_TITLE, start=MEETING_START,
        end=MEETING_END, sequence=MEETING_SEQUENCE,
    )
    for email, name in INVITED.items():
        Invitation.objects.create(meeting=meeting, person=PersonFactory(email=email,
                                                                        full_name=name))
    Invitation.objects.create(meeting=meeting, removed_at=timezone.now(),
                              person=PersonFactory(email=REMOVED, full_name="Left Trust"))
    PersonFactory(email=NOT_INVITED, full_name="Mark Jones")
    return meeting


def invitation_state(meeting: Meeting) -> list[tuple]:
    """Everything a reply may change, for every invitation of ``meeting`` (to compare)."""
    return list(
        Invitation.objects.filter(meeting=meeting).order_by("pk").values_list(
            "person__email", "response", "note", "responded_at", "answered_via",
            "reply_sequence", "reply_dtstamp", "removed_at", "waitlisted_at",
        )
    )
