"""Fixtures shared by the task-and-finish tests: a SIG with a chair, one of its
recruiting task-and-finish groups (2 places) with a lead, and ``run`` to call a
service as a request would. A test module's own fixture of the same name wins."""

import pytest

from members import volunteering
from members.models import Membership
from tests.factories import MembershipFactory, PersonFactory, RecruitingGroupFactory, SIGFactory


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call a service as a request would: its emails are sent when it commits."""
    def call(function, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)
    return call


@pytest.fixture
def sig(db):
    return SIGFactory(name="Paediatric Imaging", slug="paediatric-imaging")


@pytest.fixture
def chair(sig):
    return MembershipFactory(group=sig, role=Membership.Role.CHAIR,
                             person=PersonFactory(full_name="Dr Cora Chair",
                                                  email="cora.chair@nhs.net")).person


@pytest.fixture
def group(sig):
    return RecruitingGroupFactory(parent=sig, name="NAI imaging documentation", slug="nai-doc",
                                  places=2)


@pytest.fixture
def lead(sig, group):
    person = PersonFactory(full_name="Lee Lead", email="lee.lead@nhs.net")
    MembershipFactory(group=sig, person=person)
    volunteering.membership_appoint_lead(group=group, person=person)
    return person
