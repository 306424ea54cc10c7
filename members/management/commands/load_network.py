"""``manage.py load_network PATH``: load ICBs, trusts, staff groups and SIGs."""

from django.core.management.base import BaseCommand, CommandError

from members.network import NetworkFileError, network_load, network_read_file


class Command(BaseCommand):
    help = (
        "Load the network file (ICBs, trusts, staff groups, SIGs and task-and-finish groups). "
        "Safe to run again: only what changed is written, and nothing is ever deleted. "
        "A malformed file writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path",
                            help="the JSON network file, e.g. members/data/wmin-network.json")

    def handle(self, *args, path: str, **options):
        try:
            report = network_load(data=network_read_file(path))
        except NetworkFileError as exc:
            raise CommandError(f"{exc}\nNothing was changed.") from exc
        for line in report.lines():
            self.stdout.write(line)
        if report.changed:
            self.stdout.write(self.style.SUCCESS(
                f"Loaded {path}: {report.created} created, {report.updated} updated."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Loaded {path}: nothing changed."))
