"""``manage.py set_chair --sig SLUG --email ADDRESS``: the network office appoints a SIG's chair."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from members.emails import allowed_domains_text, is_nhs_address
from members.models import Group, Membership, Person, normalise_email
from members.services import membership_appoint_chair, person_get_or_create

_NAME_MAX_LENGTH = Person._meta.get_field("full_name").max_length


def _checked_name(name: str | None) -> str:
    """``--name`` stripped ("" when not given). CommandError if given but blank or too long."""
    if name is None:
        return ""
    name = name.strip()
    if not name:
        raise CommandError(
            '--name is blank. Give the chair\'s full name, for example --name "Dr Priya Shah", '
            "or leave --name out. Nothing was changed.")
    if len(name) > _NAME_MAX_LENGTH:
        raise CommandError(
            f"--name is {len(name)} characters long: a full name must be {_NAME_MAX_LENGTH} "
            "characters or fewer. Nothing was changed.")
    return name


class Command(BaseCommand):
    help = (
        "Appoint the chair (or, with --deputy, a deputy chair) of a SIG, creating the person "
        "if they have no account yet. Running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--sig", required=True, metavar="SLUG",
                            help="the SIG's slug, e.g. paediatric-imaging")
        parser.add_argument("--email", required=True, metavar="ADDRESS",
                            help="the chair's NHS work email address")
        parser.add_argument("--name", default=None, metavar='"FULL NAME"',
                            help="their full name (used only if they have none yet), at most "
                                 f"{_NAME_MAX_LENGTH} characters")
        parser.add_argument("--deputy", action="store_true", help="appoint a deputy chair")

    def handle(self, *args, sig: str, email: str, name: str | None, deputy: bool, **options):
        name = _checked_name(name)
        email = normalise_email(email)
        if not is_nhs_address(email):
            raise CommandError(
                f"{email or 'A blank address'} is not an NHS work address "
                f"(use {allowed_domains_text()}). Nothing was changed.")
        group = Group.objects.filter(slug=sig.strip()).first()
        if group is None or not group.is_sig:
            known = ", ".join(Group.objects.filter(kind=Group.Kind.SIG)
                              .values_list("slug", flat=True)) or "none: run load_network first"
            what = "a task-and-finish group, not a SIG" if group else "not a SIG slug"
            raise CommandError(f"'{sig}' is {what}. SIGs: {known}. Nothing was changed.")
        role = Membership.Role.DEPUTY_CHAIR if deputy else Membership.Role.CHAIR
        try:
            with transaction.atomic():
                person, created = person_get_or_create(email=email, full_name=name)
                membership, changed = membership_appoint_chair(group=group, person=person,
                                                               role=role)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages) + " Nothing was changed.") from exc
        who = f"{person.get_full_name()} <{person.email}>" if person.full_name else person.email
        role_name = membership.get_role_display().lower()
        if created:
            self.stdout.write(f"Created an account for {person.email} (they sign in with a "
                              "code sent to that address).")
        if changed:
            self.stdout.write(self.style.SUCCESS(f"{who} is now {role_name} of {group.name}."))
        else:
            self.stdout.write(f"No change: {who} was already {role_name} of {group.name}.")
