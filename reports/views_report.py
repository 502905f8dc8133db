"""The results report: for the organisers, and for the participants by a link the facilitator switches on."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from config.errors import bad_request
from reports import charts
from reports.models import ReportShare
from reports.selectors import Report, report_is_open, report_share_of, shared_workshop, workshop_report
from reports.services import report_share_set
from workshops.permissions import workshop_for_facilitator, workshop_for_organiser

SHARE_ACTIONS = {"on", "off", "renew"}


# --- pages -----------------------------------------------------------------------------
def _charts(report: Report) -> dict:
    return {
        "case_chart": charts.bar_chart(
            report.by_case, chart_id="chart-cases", title=_("Comments per case"), label_heading=_("Case")
        ),
        "round_chart": charts.bar_chart(
            report.by_round, chart_id="chart-rounds", title=_("Comments per round"), label_heading=_("Round")
        ),
        "room_chart": charts.bar_chart(
            report.by_room, chart_id="chart-rooms", title=_("Comments per room"), label_heading=_("Room")
        ),
        "category_chart": charts.bar_chart(
            report.by_category,
            chart_id="chart-categories",
            title=_("Comments per category"),
            label_heading=_("Category"),
        ),
        "timeline_chart": charts.timeline_chart(
            report.timeline, chart_id="chart-timeline", title=_("Comments per 10 minutes")
        ),
    }


def share_link(share: ReportShare | None) -> str:
    if share is None:
        return ""
    return settings.KEHITTAMO_SITE_URL + reverse("reports:report_shared", kwargs={"token": share.token})


@login_required
@never_cache
@require_GET
def report(request, workshop_id: int):
    """The report for facilitators (any time) and the workshop's contact persons (once it is over)."""
    workshop = workshop_for_organiser(request.user, workshop_id)
    is_facilitator = request.user.is_facilitator
    context = {"workshop": workshop, "is_facilitator": is_facilitator, "for_organisers": True}
    if not (is_facilitator or report_is_open(workshop)):
        return render(request, "reports/report.html", {**context, "not_yet": True})
    results = workshop_report(workshop)
    share = report_share_of(workshop)
    context.update(
        report=results,
        share=share,
        share_link=share_link(share),
        still_running=not report_is_open(workshop),
        **_charts(results),
    )
    return render(request, "reports/report.html", context)


@login_required
@require_POST
def report_share(request, workshop_id: int):
    """``action`` on, off or renew: the facilitator decides whether the participants may open the report."""
    workshop = workshop_for_facilitator(request.user, workshop_id)
    action = request.POST.get("action")
    if action not in SHARE_ACTIONS:
        return bad_request(request)
    report_share_set(workshop=workshop, action=action)
    if action == "off":
        messages.success(request, _("The link is off. Nobody can open the report with it now."))
    elif action == "renew":
        messages.success(request, _("A new link was made. The old one no longer works."))
    else:
        messages.success(request, _("The link is on. Anyone who has it can read the report."))
    return redirect("reports:report", workshop_id=workshop.pk)


@never_cache
@require_GET
def report_shared(request, token: str):
    """The report for the participants, without signing in, while the link is on and the workshop is over."""
    workshop = shared_workshop(token)
    if workshop is None:
        return render(request, "reports/report.html", {"unavailable": True}, status=404)
    results = workshop_report(workshop)
    context = {"workshop": workshop, "report": results, "for_organisers": False, **_charts(results)}
    response = render(request, "reports/report.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
