"""Which 'running' rows are shown as 'died': a gone pid or a reused one on this host, an old heartbeat from
another; finished rows and rows from before pids were recorded are shown as stored."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

from datacomp.store.run_liveness import STALE_AFTER, process_alive, shown_status, this_host, with_shown_status

NOW = datetime(2026, 1, 1, 12, 0, 0)


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def gone_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def running(**fields):
    return {"status": "running", "started_at": utc_now(), "host": this_host(), "heartbeat_at": None,
            "error": None, **fields}


def test_on_this_host_a_gone_process_is_died_and_a_live_one_running():
    import os

    pid = gone_pid()
    assert shown_status(running(pid=pid)) == (
        "died", f"process {pid} is gone (killed or crashed before it could record an end)")
    assert shown_status(running(pid=os.getpid())) == ("running", None)


def test_a_pid_reused_by_a_process_started_after_the_run_is_died():
    import os

    long_ago = utc_now() - timedelta(days=400)       # this test process started after that run began
    assert not process_alive(os.getpid(), long_ago)
    assert shown_status(running(pid=os.getpid(), started_at=long_ago))[0] == "died"
    assert process_alive(os.getpid(), utc_now())


def test_from_another_host_the_heartbeat_age_decides():
    old = running(pid=1, host="elsewhere", started_at=NOW - timedelta(hours=3),
                  heartbeat_at=NOW - STALE_AFTER - timedelta(minutes=1))
    assert shown_status(old, now=NOW) == (
        "died", "no heartbeat from elsewhere for 31 min (a live run stamps one every 60 s while it advances)")
    fresh = {**old, "heartbeat_at": NOW - timedelta(minutes=5)}
    assert shown_status(fresh, now=NOW) == ("running", None)
    never_beat = {**old, "heartbeat_at": None, "started_at": NOW - timedelta(minutes=40)}
    assert shown_status(never_beat, now=NOW)[0] == "died"


def test_ended_runs_and_runs_without_a_pid_are_shown_as_stored():
    pid = gone_pid()
    for status in ("finished", "failed", "interrupted"):
        assert shown_status(running(pid=pid, status=status)) == (status, None)
    assert shown_status(running(pid=None)) == ("running", None)   # recorded before schema 11


def test_with_shown_status_replaces_status_and_error_of_dead_runs_only():
    pid = gone_pid()
    rows = [running(pid=pid, run_id="a"), {**running(pid=pid, run_id="b"), "status": "failed", "error": "E: x"}]
    shown = with_shown_status(rows)
    assert [(r["run_id"], r["status"], r["error"]) for r in shown] == [
        ("a", "died", f"process {pid} is gone (killed or crashed before it could record an end)"),
        ("b", "failed", "E: x")]
    assert rows[0]["status"] == "running"    # the input is not changed
