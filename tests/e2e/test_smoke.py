import pytest


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_live_server_serves_a_brand_host_to_chromium(live_server_asgi, new_page):
    page = new_page()
    page.goto(live_server_asgi.url("alpha", "/healthz"))
    assert '"schema": "brand_alpha"' in page.content()
