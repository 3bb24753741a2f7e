"""``/api/docs`` works offline: the page and everything it loads come from this app."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

ATTRIBUTES = re.compile(r"""(?:src|href|url)\s*[=:(]\s*['"]?([^'")\s>]+)""")


def test_the_docs_page_references_no_external_host(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.text
    assert "cdn." not in html and "://" not in html.replace("http://testserver", "")
    links = ATTRIBUTES.findall(html)
    assert {"/api/docs-assets/swagger-ui-bundle.js", "/api/docs-assets/swagger-ui.css"} <= set(
        links
    )
    assert '"validatorUrl": null' in html  # no schema sent to validator.swagger.io
    for link in links:
        assert link.startswith("/"), link
        assert client.get(link).status_code == 200, link
    assert client.get("/api/openapi.json").json()["openapi"].startswith("3.")
