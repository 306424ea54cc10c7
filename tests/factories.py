"""factory_boy factories for SIG Hub's models."""

import factory

from members.models import ICB, Group, Membership, Person, StaffGroup, Trust


class ICBFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ICB
        django_get_or_create = ["ods_code"]

    ods_code = factory.Sequence(lambda n: f"Q{n:02d}")
    name = factory.Sequence(lambda n: f"NHS Test {n} Integrated Care Board")


class TrustFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trust
        django_get_or_create = ["ods_code"]

    ods_code = factory.Sequence(lambda n: f"T{n:02d}")
    name = factory.Sequence(lambda n: f"Test {n} NHS Trust")
    short_name = factory.Sequence(lambda n: f"T{n}")
    icb = factory.SubFactory(ICBFactory)


class StaffGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffGroup
        django_get_or_create = ["name"]

    name = "Sonographer"


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@nhs.net")
    full_name = factory.Sequence(lambda n: f"Person {n}")
    trust = factory.SubFactory(TrustFactory)
    staff_group = factory.SubFactory(StaffGroupFactory)


class SIGFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    kind = Group.Kind.SIG
    slug = factory.Sequence(lambda n: f"sig-{n}")
    name = factory.Sequence(lambda n: f"SIG {n}")
    summary = "A special interest group."


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    person = factory.SubFactory(PersonFactory)
    group = factory.SubFactory(SIGFactory)
    role = Membership.Role.MEMBER
    status = Membership.Status.ACTIVE


# --- events (meetings) --------------------------------------------------------
# Imports here so the factories above stay as they were (this block is appended).
import datetime as _dt  # noqa: E402

from django.utils import timezone as _timezone  # noqa: E402

from events.models import Action, AgendaItem, Invitation, Meeting  # noqa: E402


class TaskAndFinishFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    kind = Group.Kind.TASK_AND_FINISH
    slug = factory.Sequence(lambda n: f"tfg-{n}")
    name = factory.Sequence(lambda n: f"Task-and-finish group {n}")
    parent = factory.SubFactory(SIGFactory)
    aim = "Agree one standard."


class MeetingFactory(factory.django.DjangoModelFactory):
    """A scheduled meeting a week from now, on Teams. No invitations or mail (use the services)."""

    class Meta:
        model = Meeting

    group = factory.SubFactory(SIGFactory)
    title = factory.Sequence(lambda n: f"Meeting {n}")
    start = factory.LazyFunction(
        lambda: (_timezone.now() + _dt.timedelta(days=7)).replace(microsecond=0, second=0)
    )
    end = factory.LazyAttribute(lambda o: o.start + _dt.timedelta(hours=1))
    teams_url = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_test%40thread.v2/0"
    venue = ""


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    meeting = factory.SubFactory(MeetingFactory)
    person = factory.SubFactory(PersonFactory)


class AgendaItemFactory(factory.django.DjangoModelFactory):
    """An ordinary (not standing) agenda item, appended to its meeting's agenda."""

    class Meta:
        model = AgendaItem

    meeting = factory.SubFactory(MeetingFactory)
    title = factory.Sequence(lambda n: f"Item {n}")
    position = factory.Sequence(lambda n: 100 + n)
    minutes_allowed = 10


class ActionFactory(factory.django.DjangoModelFactory):
    """An open action agreed at a meeting of its group, owned by a new person."""

    class Meta:
        model = Action

    meeting = factory.SubFactory(MeetingFactory)
    group = factory.LazyAttribute(lambda o: o.meeting.group)
    description = factory.Sequence(lambda n: f"Circulate draft protocol {n}")
    owner = factory.SubFactory(PersonFactory)


# --- task-and-finish groups recruiting volunteers (issue 5) ---------------------------


class RecruitingGroupFactory(TaskAndFinishFactory):
    """A task-and-finish group open to volunteers: recruiting, no cap unless given."""

    status = Group.Status.RECRUITING
    hours_per_month = 2
