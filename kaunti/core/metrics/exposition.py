"""The registry one scrape renders: every process's counters of this node (multiprocess
mode) or this process's own, then the queue lengths and the apps' figures."""

from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from kaunti.core.metrics.collectors import FiguresCollector, QueueDepthCollector
from kaunti.core.metrics.processes import multiprocess_dir


class _ThisProcess(Collector):
    """The default registry (this process's instruments, and its CPU and memory)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def scrape_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if multiprocess_dir():
        MultiProcessCollector(registry, path=multiprocess_dir())
    else:
        registry.register(_ThisProcess())
    registry.register(QueueDepthCollector())
    registry.register(FiguresCollector())
    return registry


def render() -> bytes:
    """The text exposition format of one scrape."""
    return generate_latest(scrape_registry())
