"""deploy/grafana/kaunti.json: it parses, takes its Prometheus from a variable, and every
metric a panel queries is one /metrics exposes (scraped here, after some traffic)."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client

from kaunti.core.metrics import collectors
from kaunti.core.services import jobs
from kaunti.core.tests.scrape import scrape
from kaunti.core.tests.test_metrics import _broken, _flaky, _ok

REPO = Path(__file__).resolve().parents[3]
DASHBOARD = REPO / "deploy" / "grafana" / "kaunti.json"
METRIC = re.compile(r"\bkaunti_[a-z0-9_]+")


class _Pipeline:
    """Stands in for Redis when the tests run without it: the queues hold 2 and 0."""

    def __init__(self) -> None:
        self.lengths: list[int] = []

    def __enter__(self) -> "_Pipeline":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def llen(self, queue: str) -> None:
        self.lengths.append(2 if queue == "celery" else 0)

    def execute(self) -> list[int]:
        return self.lengths


class _Broker:
    def pipeline(self, transaction: bool = False) -> _Pipeline:
        return _Pipeline()


def _queries(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_the_dashboard_takes_its_prometheus_from_a_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


@pytest.mark.django_db
def test_every_metric_a_panel_queries_is_exposed(
    client: Client, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
    monkeypatch.setattr(collectors, "_broker_client", lambda url: _Broker())
    client.get("/healthz")
    client.get("/readyz")
    _ok.delay()
    _broken.delay()
    _flaky.delay()
    jobs.start_job(job=jobs.create_job(kind="land.bill_rates"), total=10)

    exposed = {name for name, _labels in scrape(client, settings)}
    queried = {
        name
        for expr in _queries(json.loads(DASHBOARD.read_text()))
        for name in METRIC.findall(expr)
    }
    assert queried, "the dashboard queries no Kaunti metric"
    assert queried - exposed == set()


def test_the_prometheus_example_scrapes_metrics_with_the_bearer_token() -> None:
    config = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["type"] == "Bearer"
    assert "credentials_file" in job["authorization"]
