"""Write a workshop's Excel workbook synchronously, without Celery: ``manage.py export_workbook 12 --language en``."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.text import slugify

from reports.workbook import build_workbook
from workshops.models import Workshop


class Command(BaseCommand):
    help = "Write a workshop's contributions workbook (.xlsx) to a file, the same one the export page builds."

    def add_arguments(self, parser):
        parser.add_argument("workshop_id", type=int)
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            help="Language of the sheet names and headers (default: the workshop's language).",
        )
        parser.add_argument(
            "--output", type=Path, help="Where to write the file (default: <workshop-title>-<date>.xlsx here)."
        )

    def handle(self, *args, workshop_id: int, language: str | None, output: Path | None, **options):
        workshop = Workshop.objects.filter(pk=workshop_id).first()
        if workshop is None:
            raise CommandError(f"There is no workshop {workshop_id}.")
        if output is None:
            output = Path(f"{slugify(workshop.title) or 'kehittamo'}-{timezone.localdate().isoformat()}.xlsx")
        if output.parent and not output.parent.is_dir():
            raise CommandError(f"The folder {output.parent} does not exist.")
        rows = build_workbook(workshop, output, language=language or workshop.language)
        self.stdout.write(self.style.SUCCESS(f"Wrote {rows} rows to {output.resolve()}"))
