"""Django's Redis cache, with one Redis client per connection pool instead of one per call.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` object for every cache
operation; building one sets up its table of response callbacks, which cost more than
the round trip of a small `GET`. A throttled API request makes two cache calls, a USSD
hop several. The client object holds no connection of its own (the pool does) and is
safe to share between threads, so keeping one per pool changes nothing else.
"""

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis import Redis


class SharedClientRedisCacheClient(RedisCacheClient):
    """`RedisCacheClient` that builds its `redis.Redis` once for writes and once for reads.

    With one server (a county's set-up) both are clients of the same pool. With read
    replicas, Django picks a replica at random per call; here each cache object (one per
    thread) keeps the replica it picked first.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[bool, Redis] = {}  # write? -> client

    def get_client(self, key: Any = None, *, write: bool = False) -> Redis:
        client = self._clients.get(write)
        if client is None:
            client = self._clients[write] = super().get_client(key, write=write)
        return client


class RedisCache(DjangoRedisCache):
    """The `django.core.cache.backends.redis.RedisCache` backend with shared clients."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
