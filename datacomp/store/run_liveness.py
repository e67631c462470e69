"""Whether a run the store calls 'running' still is: the status every reader of ``runs`` shows.

A process killed outright (SIGKILL, the OOM killer, power loss) never writes its finish row, so its row says
'running' forever. Each run records the pid and host it started in and a heartbeat its progress bars stamp
(record_run). Read on the same host, a running row whose process is gone, or whose pid now belongs to a
process started after the run (pid reuse), is shown as 'died'. Read from another host the pid means nothing,
so a heartbeat older than ``STALE_AFTER`` is what marks it.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HEARTBEAT_SECONDS = 60.0                 # how often a live run stamps its row (at most; only while it advances)
STALE_AFTER = timedelta(minutes=30)      # a heartbeat older than this, seen from another host: presumed dead
_START_SLACK = 5.0                       # seconds: /proc's boot time is whole seconds, clocks tick at 100 Hz


def this_host() -> str:
    return socket.gethostname()


def shown_status(row: dict[str, Any], now: datetime | None = None) -> tuple[str, str | None]:
    """(status, why) for a runs row with status, started_at, pid, host, heartbeat_at: the stored status and
    None, or 'died' and the evidence when a 'running' row's process is gone. Rows from before schema 11 (no
    pid) keep 'running': there is nothing to judge them by."""
    if row.get("status") != "running" or row.get("pid") is None:
        return row.get("status"), None
    if row.get("host") == this_host():
        if not process_alive(int(row["pid"]), row.get("started_at")):
            return "died", f"process {row['pid']} is gone (killed or crashed before it could record an end)"
        return "running", None
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    last = row.get("heartbeat_at") or row.get("started_at")
    if last is not None and now - last > STALE_AFTER:
        minutes = int((now - last).total_seconds() // 60)
        return "died", (f"no heartbeat from {row.get('host')} for {minutes} min (a live run stamps one every "
                        f"{HEARTBEAT_SECONDS:.0f} s while it advances)")
    return "running", None


def with_shown_status(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with ``status`` as shown_status judges it; a run judged dead has the evidence as its error."""
    shown = []
    for row in rows:
        status, why = shown_status(row)
        shown.append(row if why is None else {**row, "status": status, "error": why})
    return shown


def process_alive(pid: int, started_at: datetime | None = None) -> bool:
    """Whether ``pid`` is a live process on this host that could be the one that started at ``started_at``
    (naive UTC): a live pid whose process started after the run did is another process that reused it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:      # alive, someone else's
        pass
    if started_at is None:
        return True
    process_start = _process_start(pid)
    if process_start is None:    # no /proc (macOS...): the pid check is all there is
        return True
    run_start = started_at.replace(tzinfo=timezone.utc).timestamp()
    return process_start <= run_start + _START_SLACK


def _process_start(pid: int) -> float | None:
    """The process's start as a Unix time, from /proc (Linux); None where that is not available."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (OSError, StopIteration, ValueError):
        return None
    fields = stat[stat.rindex(")") + 2:].split()   # the command name may hold spaces: fields follow its ')'
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
