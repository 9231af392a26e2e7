"""The Redis cache backend (`kaunti.core.cache`): Django's, with one client per pool."""

import threading
import uuid
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import caches

from kaunti.core.cache import RedisCache

pytestmark = pytest.mark.skipif(
    not settings.REDIS_URL, reason="the Redis cache is configured only with REDIS_URL"
)


def _new_cache() -> RedisCache:
    return RedisCache(settings.REDIS_URL, {"KEY_PREFIX": f"test-{uuid.uuid4().hex[:8]}"})


def test_the_configured_cache_is_this_backend() -> None:
    assert isinstance(caches["default"], RedisCache)


def test_values_round_trip_and_expire_as_with_djangos_backend() -> None:
    cache = _new_cache()

    cache.set("fee", {"amount": "1500.00"}, timeout=60)
    assert cache.get("fee") == {"amount": "1500.00"}
    assert cache.add("fee", "other") is False
    cache.set("count", 1)
    assert cache.incr("count", 4) == 5
    cache.delete("fee")
    assert cache.get("fee", "gone") == "gone"
    cache.set("brief", "x", timeout=0)  # 0: expire at once, as Django's backend does
    assert cache.get("brief") is None


def test_one_client_serves_every_call_of_a_cache() -> None:
    cache = _new_cache()
    inner: Any = getattr(cache, "_cache")  # noqa: B009  (Django's client object, not in stubs)
    client = inner.get_client(write=True)

    for _ in range(3):
        cache.set("k", "v")
        cache.get("k")

    assert inner.get_client(write=True) is client
    assert inner.get_client().connection_pool is client.connection_pool  # one server


def test_each_thread_has_its_own_cache_object_and_sees_the_same_data() -> None:
    caches["default"].set("shared-by-threads", "from the main thread")
    seen: list[object] = []

    def read() -> None:
        seen.append(caches["default"].get("shared-by-threads"))
        seen.append(caches["default"])

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()

    assert seen[0] == "from the main thread"
    assert seen[1] is not caches["default"]
    caches["default"].delete("shared-by-threads")
