"""The "after" of a workshop: categories for classifying contributions, export files, the shareable report."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

COLOUR = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Give the colour as #RRGGBB, for example #0b4f8a."))


class Category(models.Model):
    """One code of a workshop's codebook, used to classify comments (in the platform or in Excel)."""

    workshop = models.ForeignKey(
        "workshops.Workshop", verbose_name=_("workshop"), on_delete=models.CASCADE, related_name="categories"
    )
    name = models.CharField(_("name"), max_length=100)
    colour = models.CharField(_("colour"), max_length=7, default="#0b4f8a", validators=[COLOUR])
    description = models.CharField(_("description"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        # By the column: by the relation, every query would join workshop (and on) to sort by its own ordering.
        ordering = ["workshop_id", Lower("name")]
        constraints = [models.UniqueConstraint(Lower("name"), "workshop", name="category_name_unique_per_workshop")]

    def __str__(self) -> str:
        return self.name


class CommentCategory(models.Model):
    """A comment tagged with a category; a comment can have several."""

    comment = models.ForeignKey("facilitation.Comment", on_delete=models.CASCADE, related_name="taggings")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="taggings")
    tagged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comment", "category"], name="comment_category_once")]

    def __str__(self) -> str:
        return f"{self.comment_id}: {self.category_id}"


class Export(models.Model):
    """One requested Excel workbook: built by a Celery task, kept for a while, downloadable again."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Being built")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    workshop = models.ForeignKey("workshops.Workshop", on_delete=models.CASCADE, related_name="exports")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="fi")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="exports/", blank=True)
    error = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Asking twice while one is being built must not start a second build.
            models.UniqueConstraint(
                fields=["workshop"], condition=Q(status__in=["pending", "running"]), name="one_export_building"
            )
        ]

    def __str__(self) -> str:
        return f"{self.workshop_id}: {self.status}"

    @property
    def is_available(self) -> bool:
        return (
            self.status == self.Status.DONE
            and bool(self.file)
            and (self.expires_at is None or self.expires_at > timezone.now())
        )


class ReportShare(models.Model):
    """Whether the workshop's results report is open to its participants by link."""

    workshop = models.OneToOneField(
        "workshops.Workshop", primary_key=True, on_delete=models.CASCADE, related_name="report_share"
    )
    enabled = models.BooleanField(default=False)
    token = models.CharField(max_length=64, unique=True)
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.workshop_id}: {self.enabled}"
