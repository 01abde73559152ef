"""Tests that need a real Redis (a cache shared by app servers): skipped on a developer
machine without one, never under CI (.ci/run starts Redis when it is not running)."""

import os

import pytest


def reachable(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.exceptions.ConnectionError:
        return False


def requires_redis(url: str):
    return pytest.mark.skipif(
        not os.environ.get("CI") and not reachable(url),
        reason=f"Redis is not reachable at {url} (under CI this test must run)",
    )


def redis_caches(url: str, prefix: str) -> dict:
    """The production CACHES setting for Redis at ``url``, keys under ``prefix``."""
    from digestsite.settings import redis_caches as production

    return production(url, prefix)
