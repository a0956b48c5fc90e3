"""Mock site lifecycle: the database survives a restart (seeded only when new); no admin API outside mock mode."""

from __future__ import annotations

from pathlib import Path

from fixtures.jobber_site.server import MockJobber
from fixtures.scenarios import load, names
from tests.plugin_mock_jobber import sign_in


def test_restart_keeps_data(tmp_path: Path) -> None:
    with MockJobber(tmp_path) as site:
        api = sign_in(site)
        inv = next(i for i in site.admin.account()["invoices"] if i["number"] == 1042)
        assert api.post(f"/api/invoices/{inv['id']}/payments", json={"method": "cash", "amount": "5.00"}).status_code == 201
        api.close()
    with MockJobber(tmp_path) as again:
        assert again.admin.invoice(1042)["balance"] == "145.00"


def test_no_admin_api_without_mock_mode(tmp_path: Path) -> None:
    with MockJobber(tmp_path, mock_mode=False) as site:
        assert site.admin.get("/_mock/state").status_code == 404
        assert site.admin.get("/login").status_code == 200


def test_scenarios_load() -> None:
    assert "demo" in names()
    demo = load("demo")
    demo["accounts"].clear()
    assert load("demo")["accounts"], "load returns a fresh copy"
