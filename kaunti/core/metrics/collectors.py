"""What a scrape reads besides the processes' own counters: the figures the apps register
(`figures`), and the length of each Celery queue when the broker is Redis."""

import logging
import time
from collections.abc import Iterator
from functools import lru_cache

from django.conf import settings
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis import Redis

from kaunti.core.metrics.figures import registered_sources

logger = logging.getLogger(__name__)

# The queues the workers serve (README: `celery -A kaunti worker -Q celery,notifications`).
QUEUES = ("celery", "notifications")


class FiguresCollector(Collector):
    """Calls every registered figure source; one that fails is reported as down (and
    logged), never as a failed scrape."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "kaunti_figures_source_up",
            "1 when the figure source (an app) answered this scrape, 0 when it failed.",
            labels=["source"],
        )
        took = GaugeMetricFamily(
            "kaunti_figures_source_seconds",
            "Time the figure source took to answer this scrape.",
            labels=["source"],
        )
        for name, source in sorted(registered_sources().items()):
            started = time.perf_counter()
            try:
                figures = list(source())
            except Exception:  # any failure: reported as the source down, and logged
                logger.exception("metrics: figure source %s failed", name)
                up.add_metric([name], 0)
                continue
            finally:
                took.add_metric([name], time.perf_counter() - started)
            up.add_metric([name], 1)
            for figure in figures:
                labels = list(figure.labels)
                family = GaugeMetricFamily(figure.name, figure.documentation, labels=labels)
                for sample_labels, value in figure.samples:
                    family.add_metric([str(sample_labels[label]) for label in labels], value)
                yield family
        yield up
        yield took


def broker_is_redis() -> bool:
    return str(settings.CELERY_BROKER_URL).startswith(("redis://", "rediss://", "unix://"))


@lru_cache(maxsize=4)
def _broker_client(url: str) -> Redis:
    return Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


class QueueDepthCollector(Collector):
    """Messages waiting in each Celery queue (Redis `LLEN`); nothing when the broker is
    not Redis, and `kaunti_celery_broker_up 0` when Redis does not answer."""

    def collect(self) -> Iterator[Metric]:
        if not broker_is_redis():
            return
        depth = GaugeMetricFamily(
            "kaunti_celery_queue_length",
            "Tasks waiting in the Celery queue (not yet taken by a worker).",
            labels=["queue"],
        )
        up = GaugeMetricFamily("kaunti_celery_broker_up", "1 when the broker answered.")
        try:
            client = _broker_client(settings.CELERY_BROKER_URL)
            with client.pipeline(transaction=False) as pipe:
                for queue in QUEUES:
                    pipe.llen(queue)
                lengths = pipe.execute()
        except Exception as exc:  # noqa: BLE001  (reported as the broker being down)
            logger.warning("metrics: broker did not answer: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        for queue, length in zip(QUEUES, lengths, strict=True):
            depth.add_metric([queue], float(length))
        up.add_metric([], 1)
        yield depth
        yield up
