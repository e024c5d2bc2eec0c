"""One client shared by many threads: every call succeeds, once, over reused connections."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


def test_many_threads_share_one_client(loopback):
    server, client = loopback

    def work(i: int) -> tuple[str, int]:
        ref = client.dial(f"ext:{1000 + i % 10}", f"tel:4100{i % 10}")
        client.hold(f"ext:{1000 + i % 10}")
        return ref.call_id, len(client.list_calls())

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(work, range(160)))
    ids = [call_id for call_id, _ in results]
    assert len(set(ids)) == 160  # every dial placed exactly once and answered to its caller
    assert len(server.app.calls) == 160
    assert server.app.logins == 1  # the token is fetched once and shared
    assert sum(1 for r in server.requests if r.path == "/dial") == 160


def test_close_is_idempotent_and_refuses_further_use(loopback):
    _, client = loopback
    client.close()
    client.close()
    import pytest

    from telephony_core.errors import TelephonyError

    with pytest.raises(TelephonyError, match="closed"):
        client.hold("ext:1000")
