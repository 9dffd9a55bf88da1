"""Deadlines in the test helpers are for hangs: generous by default, and a timeout says it was one, with the log.

On a loaded machine a fresh service took over 30 s to migrate and start; the deployment tests then failed with
"service failed to start" and the reason (a 30 s deadline) was swallowed. The helpers that wait for a service
(tests/live_process.py, tests/live_server.py, tests/deploy/) wait START_TIMEOUT, and say "timed out".
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests import live_process
from tests.live_process import START_TIMEOUT, LiveService, StartTimeout, wait_until_up


def test_the_start_deadline_is_generous():
    assert START_TIMEOUT >= 180
    assert wait_until_up.__defaults__[0] >= 180
    assert live_process.wait_for_listeners.__defaults__[0] >= 180
    from tests.deploy import test_workers

    assert test_workers._wait_for_workers.__defaults__[0] >= 180


def test_a_service_that_never_answers_is_reported_as_a_timeout_with_its_log(tmp_path):
    # A stand-in for a service stuck while migrating: it logs a line, then never listens.
    stuck = [sys.executable, "-c", "import sys, time; print('migrating the database...', file=sys.stderr, flush=True); time.sleep(600)"]
    service = LiveService(tmp_path, argv=stuck, start_timeout=3)
    with pytest.raises(StartTimeout) as caught:
        service.__enter__()
    message = str(caught.value)
    assert "timed out" in message and "3 s" in message
    assert "migrating the database..." in message  # the end of the service's log
    assert service.process.poll() is not None  # and the stuck process was stopped


def test_a_service_that_exits_says_so_with_its_log(tmp_path):
    dies = [sys.executable, "-c", "import sys; print('microcred: cannot open the database', file=sys.stderr); sys.exit(3)"]
    with pytest.raises(RuntimeError) as caught:
        LiveService(tmp_path, argv=dies, start_timeout=60).__enter__()
    assert not isinstance(caught.value, StartTimeout)
    assert "exited with status 3" in str(caught.value)
    assert "cannot open the database" in str(caught.value)


def test_wait_until_up_names_the_path_and_the_deadline(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        with pytest.raises(StartTimeout, match=r"timed out: the service did not answer /ready with 200 within 1 s"):
            wait_until_up(f"http://127.0.0.1:{live_process.free_port()}", process, timeout=1, path="/ready")
    finally:
        process.kill()
        process.wait()
