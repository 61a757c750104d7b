"""What an operator watches: /metrics in Prometheus' format, and a request id on every answer and log line."""

from __future__ import annotations

import gc
import json
import logging
import threading
import time

import pytest
from conftest import app_for
from factories import create
from litestar.testing import AsyncTestClient


def _value(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} {labels} not in the metrics")


def _value_or_zero(text: str, name: str, **labels: str) -> float:
    try:
        return _value(text, name, **labels)
    except AssertionError:
        return 0.0


async def test_metrics_count_requests_per_route_and_read_the_queues(client):
    """The counters are process-wide (earlier tests raised them too): this test measures its own
    increments, between a scrape before and one after."""
    await create(client)
    before = (await client.get("/metrics")).text
    for _ in range(3):
        assert (await client.get("/v1/search", params={"near": "10001"})).status_code == 200
    assert (await client.get("/v1/providers/no-such-listing")).status_code == 404
    # A sign-up queues its confirmation mail; no mail worker runs here, so it waits.
    assert (await client.post("/v1/accounts", json={"email": "metrics@clinic.example", "password": "a long passphrase 1"})).status_code == 201
    scraped = await client.get("/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text

    def grew(name: str, **labels: str) -> float:
        return _value(text, name, **labels) - _value_or_zero(before, name, **labels)

    assert grew("directory_requests_total", path="/v1/search", status_code="200") == 3
    assert grew("directory_requests_total", path="/v1/providers/{key}", status_code="404") == 1
    assert grew("directory_request_duration_seconds_count", path="/v1/search", status_code="200") == 3
    assert _value(text, "directory_verification_due") == 1  # the new listing's NPI waits for the registry (no worker here)
    assert _value(text, "directory_mail_queue_depth") == 1
    for gauge in ("directory_webhook_queue_depth", "directory_webhook_oldest_pending_seconds", "directory_mail_queue_depth", "directory_mail_oldest_pending_seconds", "directory_verification_due", "directory_db_pool_in_use"):
        assert f"\n{gauge} " in text, gauge


async def test_every_answer_carries_a_request_id_that_the_logs_share(client):
    from directory.logs import JsonFormatter, RequestIdFilter

    created = await create(client)
    handler = logging.StreamHandler()
    lines: list[str] = []
    handler.emit = lambda record: lines.append(JsonFormatter().format(record))  # type: ignore[method-assign]
    handler.addFilter(RequestIdFilter())
    logging.getLogger("directory").addHandler(handler)
    try:
        answer = await client.get("/v1/search", params={"near": "10001"})
        assert len(answer.headers["x-request-id"]) == 32
        kept = await client.get("/v1/conditions", headers={"X-Request-Id": "from-the-proxy.42"})
        assert kept.headers["x-request-id"] == "from-the-proxy.42"
        odd = await client.get("/v1/conditions", headers={"X-Request-Id": "<script>"})
        assert odd.headers["x-request-id"] != "<script>"
        # What a request logs names the request.
        listings = client.app.state.listings
        original = listings.published_document

        async def logging_read(*args, **kwargs):
            logging.getLogger("directory.listings").warning("reading a stored listing")
            return await original(*args, **kwargs)

        listings.published_document = logging_read
        traced = await client.get(f"/v1/providers/{created['id']}", headers={"X-Request-Id": "trace-me"})
        assert traced.status_code == 200 and traced.headers["x-request-id"] == "trace-me"
    finally:
        logging.getLogger("directory").removeHandler(handler)
    entries = [json.loads(line) for line in lines]
    assert {"time", "level", "logger", "message", "request_id"} <= set(entries[-1])
    assert [e["request_id"] for e in entries if e["message"] == "reading a stored listing"] == ["trace-me"]


def test_log_lines_go_to_stderr_in_the_chosen_format_and_building_an_app_starts_no_thread(tmp_path):
    import subprocess
    import sys

    program = """
import logging, threading
from directory.app import create_app
from directory.logs import REQUEST_ID
from directory.settings import Settings
before = threading.active_count()
for fmt in ("text", "json", "json"):
    create_app(Settings(database_url="sqlite+aiosqlite:///%s", log_format=fmt, log_level="INFO"))
assert threading.active_count() == before, threading.enumerate()
REQUEST_ID.set("req-1")
logging.getLogger("directory.listings").info("a listing was read")
logging.getLogger("sqlalchemy.engine").info("not shown: other libraries log warnings and worse")
logging.getLogger("sqlalchemy.engine").warning("shown")
""" % (tmp_path / "x.db")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]  # each line once, each a JSON object
    assert [(e["logger"], e["level"], e["message"], e["request_id"]) for e in lines] == [
        ("directory.listings", "info", "a listing was read", "req-1"),
        ("sqlalchemy.engine", "warning", "shown", "req-1"),
    ]


async def test_the_start_up_heap_is_frozen_and_every_collection_is_timed(settings):
    """A worker's start-up heap is out of the collector's reach while it serves (a full collection
    would otherwise walk it, pausing requests), given back when it stops; each collection's pause
    is in /metrics by generation."""
    settings = settings.model_copy(update={"gc_freeze": True})
    async with AsyncTestClient(app=app_for(settings)) as client:
        assert gc.get_freeze_count() > 10_000  # modules, tables, the place index: far more than this
        metric = "directory_gc_pause_seconds_count"
        before = _value_or_zero((await client.get("/metrics")).text, metric, generation="2")
        gc.collect()
        assert _value((await client.get("/metrics")).text, metric, generation="2") >= before + 1
        assert _value((await client.get("/metrics")).text, "directory_gc_pause_cpu_seconds_count", generation="2") >= before + 1
    assert gc.get_freeze_count() == 0


async def test_the_youngest_generation_is_collected_after_the_configured_number_of_objects(settings):
    """While it serves, a worker collects its youngest generation after ``gc_young_threshold`` new
    objects (what a request in flight holds is then not moved up to the full collections' reach at
    Python's 700); the thresholds are as they were once it stops."""
    before = gc.get_threshold()
    async with AsyncTestClient(app=app_for(settings.model_copy(update={"gc_young_threshold": 4321}))):
        assert gc.get_threshold() == (4321, before[1], before[2])
    assert gc.get_threshold() == before
    with pytest.raises(ValueError, match="gc_young_threshold"):
        settings.model_validate({**settings.model_dump(), "gc_young_threshold": 10})


def test_a_collection_s_cpu_time_leaves_out_the_time_the_worker_was_descheduled():
    """The pause on the clock is what a request waits; the CPU time is the collector's own work. A
    worker descheduled in the middle of a collection (here: the thread sleeps between the two
    callbacks) waits long on the clock for a collection that did little."""
    from prometheus_client import REGISTRY

    from directory.collector import CollectorWatch

    def over_20ms(metric: str) -> float:
        count = REGISTRY.get_sample_value(f"{metric}_count", {"generation": "1"}) or 0
        return count - (REGISTRY.get_sample_value(f"{metric}_bucket", {"generation": "1", "le": "0.02"}) or 0)

    before = over_20ms("directory_gc_pause_seconds"), over_20ms("directory_gc_pause_cpu_seconds")
    watch = CollectorWatch()
    watch("start", {"generation": 1})
    time.sleep(0.05)
    watch("stop", {"generation": 1, "collected": 0, "uncollectable": 0})
    watch.flush()
    assert over_20ms("directory_gc_pause_seconds") == before[0] + 1
    assert over_20ms("directory_gc_pause_cpu_seconds") == before[1]


def test_a_collection_during_a_metrics_update_does_not_wait_on_the_metrics():
    """A collection can start in any code that allocates, also while prometheus_client holds a lock
    (in multiprocess mode one lock guards every metric of the process): the callback must not take
    it, or the worker would wait on itself forever. It notes the pause; ``flush`` observes it."""
    from prometheus_client import REGISTRY

    from directory.collector import GC_PAUSE, CollectorWatch

    watch, child = CollectorWatch(), GC_PAUSE.labels("2")
    lock = child._sum._lock  # what observing takes
    done = threading.Event()

    def collect_while_the_metric_is_locked() -> None:
        with lock:
            watch("start", {"generation": 2})
            watch("stop", {"generation": 2, "collected": 0, "uncollectable": 0})
        done.set()

    threading.Thread(target=collect_while_the_metric_is_locked, daemon=True).start()
    assert done.wait(5), "the collection callback waited on the metrics' lock"
    before = REGISTRY.get_sample_value("directory_gc_pause_seconds_count", {"generation": "2"}) or 0
    watch.flush()
    assert REGISTRY.get_sample_value("directory_gc_pause_seconds_count", {"generation": "2"}) == before + 1


def test_bulk_work_gives_the_collector_back_as_it_was_when_the_last_one_ends():
    """Bulk writes may overlap (two imports at once, a rebuild beside them): while any runs, the
    heap from before the first is frozen and full collections wait; both are back as they were
    when the last ends, also when it fails. A heap frozen already (a worker's) stays as it is."""
    from directory.collector import BULK_FULL_THRESHOLD, bulk_work

    assert gc.get_freeze_count() == 0
    before = gc.get_threshold()
    waiting = (before[0], before[1], max(before[2], BULK_FULL_THRESHOLD))
    first, second = bulk_work(), bulk_work()
    first.__enter__()
    assert gc.get_freeze_count() > 1000 and gc.get_threshold() == waiting
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_freeze_count() > 1000 and gc.get_threshold() == waiting
    second.__exit__(None, None, None)
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before
    try:
        with bulk_work():
            raise RuntimeError("the write failed")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with bulk_work():
            assert gc.get_threshold() == waiting
        assert frozen - 100 < gc.get_freeze_count() <= frozen  # still frozen (some frozen objects died since)
    finally:
        gc.unfreeze()
