"""``manage.py ingest_mail PATH...``: read emails exported from the network mailbox.

Each PATH is an ``.eml`` file, a directory of ``.eml`` files, or a Maildir
(a directory with ``cur/`` and ``new/``). Every message goes through
``members.mail.inbound.ingest_message``, the same entry point as the inbound
webhook: today calendar replies (RFC 6047 iMIP METHOD:REPLY) record
attendees' answers; other messages are reported as not handled.
"""

from __future__ import annotations

import mailbox
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from members.mail.inbound import InboundKind, ingest_message


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


class Command(BaseCommand):
    help = (
        "Read emails (.eml files, directories of them, or a Maildir exported from the "
        "network mailbox) and act on them: calendar replies record attendees' answers, "
        "and non-delivery reports with a permanent failure stop mail to that address. "
        "Prints one line per message and totals."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH",
                            help=".eml file, directory of .eml files, or Maildir")

    def _messages(self, path: Path, problems: list[str]) -> Iterator[tuple[str, bytes]]:
        """``(label, raw bytes)`` for each message under ``path``; problems appended."""
        if not path.exists():
            problems.append(f"{path}: no such file or directory")
            return
        if path.is_dir() and _is_maildir(path):
            box = mailbox.Maildir(path, factory=None, create=False)
            for key in sorted(box.keys()):
                try:
                    yield f"{path} [{key}]", box.get_bytes(key)
                except OSError as exc:
                    problems.append(f"{path} [{key}]: cannot read ({exc.strerror or exc})")
            return
        if path.is_dir():
            files = sorted(p for p in path.glob("*.eml") if p.is_file())
            if not files:
                problems.append(f"{path}: no .eml files and not a Maildir")
            for file in files:
                yield from self._messages(file, problems)
            return
        try:
            yield str(path), path.read_bytes()
        except OSError as exc:
            problems.append(f"{path}: cannot read ({exc.strerror or exc})")

    def handle(self, *args, **options) -> None:
        problems: list[str] = []
        totals: Counter[str] = Counter()
        read = 0
        for name in options["paths"]:
            for label, raw in self._messages(Path(name), problems):
                read += 1
                try:
                    result = ingest_message(raw)
                except Exception as exc:  # one bad message never stops the rest
                    totals["failed"] += 1
                    self.stderr.write(f"{label}: failed ({type(exc).__name__}: {exc})")
                    continue
                totals[self._category(result)] += 1
                self.stdout.write(f"{label}: {result}")
        for problem in problems:
            self.stderr.write(problem)
        if not read:
            raise CommandError("No messages could be read.")
        summary = ", ".join(f"{count} {category}" for category, count in sorted(totals.items()))
        self.stdout.write(f"{read} message{'s' if read != 1 else ''}: {summary}"
                          + (f"; {len(problems)} problem(s)" if problems else ""))

    @staticmethod
    def _category(result) -> str:
        """``recorded`` if any answer was recorded, ``ignored`` for calendar replies that
        changed nothing, else the message's kind ("not a calendar reply", "unreadable")."""
        if result.kind != InboundKind.CALENDAR:
            return str(result.kind)
        if any(getattr(outcome, "recorded", False) for outcome in result.outcomes):
            return "recorded"
        return "ignored"
