"""``manage.py import_interest FILE``: import the Microsoft Forms interest export."""

from django.core.management.base import BaseCommand, CommandError

from members.imports import InterestFileError, Outcome, interest_file_read, interest_import


class Command(BaseCommand):
    help = (
        "Import people and SIG applications from the Microsoft Forms export (.xlsx or .csv). "
        "Prints one line per row, then totals. Safe to run again: nothing is imported twice. "
        "Formulas in the file are never evaluated. Sends no email."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the export, e.g. interest-form-export.xlsx")
        parser.add_argument("--dry-run", action="store_true",
                            help="report what would happen without saving anything")

    def handle(self, *args, file: str, dry_run: bool, **options):
        try:
            report = interest_import(answers=interest_file_read(file=file), dry_run=dry_run)
        except InterestFileError as exc:
            raise CommandError(f"{exc} Nothing was imported.") from exc
        styles = {Outcome.IMPORTED: self.style.SUCCESS, Outcome.UPDATED: self.style.SUCCESS,
                  Outcome.SKIPPED: self.style.WARNING}
        for row in report.rows:
            self.stdout.write(styles.get(row.outcome, str)(str(row)))
        self.stdout.write("")
        for line in report.summary_lines():
            self.stdout.write(line)
