"""Report pages and their CSV (platform host, /agent/reports/): supervisors for their
brands, account managers for every brand and the cross-brand billing, an agent for their
own figures. Every table on a page has a CSV of the same rows."""

import csv

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from chat.report_periods import ReportError, period_parse
from helpdesk.selectors import agent_get_for_user, user_is_account_manager

from .reports import (
    BILLING_TABLES, BRAND_TABLES, ReportNotAllowed, billing_report_for, brand_report_for, default_period_days, own_figures_for,
    report_brands_for, report_table,
)

DEFAULT_TIME_ZONE = "UTC"


def _period(request):
    zone = request.GET.get("tz") or DEFAULT_TIME_ZONE
    try:
        default_first, default_last = default_period_days(time_zone=zone)
    except Exception:
        default_first, default_last = default_period_days(time_zone=DEFAULT_TIME_ZONE)
    return period_parse(first_day=request.GET.get("from") or default_first, last_day=request.GET.get("to") or default_last, time_zone=zone)


def _page(request, template: str, context: dict, status: int = 200):
    agent = agent_get_for_user(user=request.user)
    base = {"agent": agent, "is_supervisor": bool(report_brands_for(user=request.user)), "is_account_manager": user_is_account_manager(user=request.user)}
    return render(request, template, {**base, **context}, status=status)


def _csv(filename: str, columns: list[str], rows: list[list]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(columns)
    for row in rows:
        # A leading = + - @ would make a spreadsheet run the cell as a formula.
        writer.writerow(["'" + value if isinstance(value, str) and value[:1] in "=+-@" else value for value in row])
    return response


@never_cache
@login_required
def reports(request):
    """The brand report (supervisors, account managers) or the agent's own figures."""
    brands = report_brands_for(user=request.user)
    try:
        period = _period(request)
    except ReportError as exc:
        return _page(request, "workspace/reports.html", {"error": str(exc), "brands": brands}, status=400)
    if not brands:
        agent = agent_get_for_user(user=request.user)
        if agent is None:
            return _page(request, "workspace/not_agent.html", {"message": "Reports are for agents, supervisors and account managers."}, status=403)
        return _page(request, "workspace/my_figures.html", {"figures": own_figures_for(agent=agent, period=period), "period": period})
    slug = request.GET.get("brand") or brands[0].slug
    try:
        report = brand_report_for(user=request.user, brand_slug=slug, period=period)
    except ReportNotAllowed:
        return _page(request, "workspace/reports.html", {"error": "No such brand.", "brands": brands, "period": period}, status=404)
    if request.GET.get("format") == "csv":
        try:
            columns, rows = report_table(tables=BRAND_TABLES, report=report, name=request.GET.get("table", ""))
        except ReportNotAllowed:
            return HttpResponse("No such table.", status=404, content_type="text/plain")
        return _csv(f"{slug}-{request.GET.get('table')}-{period.first_day}-{period.last_day}.csv", columns, rows)
    tables = {name: report_table(tables=BRAND_TABLES, report=report, name=name) for name in BRAND_TABLES}
    return _page(request, "workspace/reports.html", {"report": report, "tables": tables, "brands": brands, "brand_slug": slug, "period": period})


@never_cache
@login_required
def billing(request):
    """Agent time across every brand, for invoicing (account managers)."""
    try:
        period = _period(request)
        report = billing_report_for(user=request.user, period=period)
    except ReportError as exc:
        return _page(request, "workspace/billing.html", {"error": str(exc)}, status=400)
    except ReportNotAllowed:
        return _page(request, "workspace/not_agent.html", {"message": "Billing is for account managers."}, status=403)
    if request.GET.get("format") == "csv":
        try:
            columns, rows = report_table(tables=BILLING_TABLES, report=report, name=request.GET.get("table", ""))
        except ReportNotAllowed:
            return HttpResponse("No such table.", status=404, content_type="text/plain")
        return _csv(f"billing-{request.GET.get('table')}-{period.first_day}-{period.last_day}.csv", columns, rows)
    tables = {name: report_table(tables=BILLING_TABLES, report=report, name=name) for name in BILLING_TABLES}
    return _page(request, "workspace/billing.html", {"report": report, "tables": tables, "period": period})
