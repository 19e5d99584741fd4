"""Report pages and CSV: who sees what, and the CSV carries the page's rows."""

import csv
import io

import pytest

from helpdesk.models import Staffing
from tests.chat.test_reports import DAY, data  # noqa: F401  (the fixed data set)
from tests.factories import PASSWORD, account_manager, agent_staffed

pytestmark = pytest.mark.django_db

PLATFORM = {"HTTP_HOST": "localhost"}
PERIOD = f"from={DAY}&to={DAY}&tz=UTC"


def signed_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def csv_rows(response):
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_a_supervisor_sees_their_brand_and_not_another(client, data):  # noqa: F811
    supervisor = agent_staffed(data["alpha"], role=Staffing.Role.SUPERVISOR)
    signed_in(client, supervisor.user)
    page = client.get(f"/agent/reports/?brand=alpha&{PERIOD}", **PLATFORM)
    assert page.status_code == 200 and b"chart-trend" in page.content
    assert b"&lt;b&gt;quick&lt;/b&gt;" in page.content and b"<b>quick</b>" not in page.content  # a customer's comment, escaped
    assert client.get(f"/agent/reports/?brand=beta&{PERIOD}", **PLATFORM).status_code == 404
    assert client.get(f"/agent/reports/billing/?{PERIOD}", **PLATFORM).status_code == 403


def test_the_csv_has_the_rows_of_the_page(client, data):  # noqa: F811
    signed_in(client, agent_staffed(data["alpha"], role=Staffing.Role.SUPERVISOR).user)
    page = client.get(f"/agent/reports/?brand=alpha&{PERIOD}", **PLATFORM)
    columns, rows = page.context["tables"]["by_category"]
    exported = csv_rows(client.get(f"/agent/reports/?brand=alpha&{PERIOD}&format=csv&table=by_category", **PLATFORM))
    assert exported[0] == columns
    assert exported[1:] == [["" if cell is None else str(cell) for cell in row] for row in rows]
    assert client.get(f"/agent/reports/?brand=alpha&{PERIOD}&format=csv&table=nope", **PLATFORM).status_code == 404


def test_an_account_manager_sees_every_brand_and_the_invoice(client, data):  # noqa: F811
    signed_in(client, account_manager())
    assert client.get(f"/agent/reports/?brand=beta&{PERIOD}", **PLATFORM).status_code == 200
    invoice = csv_rows(client.get(f"/agent/reports/billing/?{PERIOD}&format=csv&table=invoice", **PLATFORM))
    by_brand = {row[0]: row for row in invoice[1:]}
    assert by_brand["alpha"][2] == "0.75" and by_brand["beta"][2] == "0.25"  # 2,700 s and 900 s of agent time


def test_an_agent_sees_only_their_own_figures(client, data):  # noqa: F811
    signed_in(client, data["ann"].user)
    page = client.get(f"/agent/reports/?{PERIOD}", **PLATFORM)
    assert page.status_code == 200
    assert [row["name"] for row in page.context["figures"]["agents"]] == ["Ann"]
    asked_for_a_brand = client.get(f"/agent/reports/?brand=alpha&{PERIOD}&format=csv&table=by_agent", **PLATFORM)
    assert not asked_for_a_brand["Content-Type"].startswith("text/csv") and b"Ben" not in asked_for_a_brand.content


def test_a_bad_period_is_a_page_that_says_why(client, data):  # noqa: F811
    signed_in(client, agent_staffed(data["alpha"], role=Staffing.Role.SUPERVISOR).user)
    page = client.get("/agent/reports/?brand=alpha&from=2026-13-01&to=2026-11-02", **PLATFORM)
    assert page.status_code == 400 and b"YYYY-MM-DD" in page.content
