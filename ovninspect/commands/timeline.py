"""``ovninspect timeline``: when each answer changed, from one NB file's own history."""

from __future__ import annotations

import datetime as dt
from typing import Optional

import typer

from ..errors import UsageError
from . import common


def _moment(text: Optional[str], flag: str) -> Optional[float]:
    """``2026-12-06``, ``2026-12-06T18:14:17Z`` or seconds since the epoch -> ms."""
    if text is None:
        return None
    try:
        return float(text) * 1000
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a date (2026-12-06, 2026-12-06T18:14:17Z) "
                         "or seconds since the epoch") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp() * 1000


@common.handle_errors
def timeline(
    db: Optional[str] = common.DB,
    router: Optional[str] = common.ROUTER,
    ip: Optional[str] = typer.Option(None, "--ip", metavar="IP",
                                     help="Only events about this external or logical IP."),
    since: Optional[str] = typer.Option(None, "--since", metavar="DATE",
                                        help="Only transactions at or after DATE (ISO 8601, "
                                             "UTC unless it says, or epoch seconds)."),
    until: Optional[str] = typer.Option(None, "--until", metavar="DATE",
                                        help="Only transactions at or before DATE."),
    only: Optional[str] = typer.Option(
        None, "--only", metavar="Q[,Q]",
        help="Questions to follow: nat, gateways (default), failover-sim, check (these two "
             "look at the whole NB after every transaction: slower)."),
    fmt: str = common.FORMAT,
    wide: bool = common.WIDE,
    ovn_version: Optional[str] = common.OVN_VERSION,
    allow_truncated: bool = common.ALLOW_TRUNCATED,
) -> None:
    """Replay one NB file transaction by transaction and report each change of the answers.

    A standalone log keeps every transaction with its date and comment (the command that
    made it, e.g. "ovn-nbctl: ovn-nbctl lr-nat-add ..."), and a clustered file keeps its
    raft entries: the timeline says when a FIP became centralized, a gateway lost a member
    or a NAT was deleted, and by what.  A compacted file or a backup holds one state and no
    history.  Each event: record, date, comment, question, change (added, removed,
    changed), key, before, after, and the fields that changed.

    Examples:

      ovninspect timeline --db /var/lib/ovn/ovnnb_db.db

      ovninspect timeline --db nb.db --ip 10.9.101.9 --since 2026-12-01

      ovninspect timeline --db nb.db --router vpc1 --only nat,gateways --format json
    """
    from ..answers.timeline import DEFAULT_QUESTIONS, QUESTIONS, Timeline
    from ..sources import is_remote

    common.check_format(fmt)
    if db and is_remote(db):
        raise UsageError("timeline needs a file (a live server keeps no history): save one "
                         "with ovninspect snapshot, or read the server's own .db file")
    chosen = list(DEFAULT_QUESTIONS) if only is None else [
        q.strip() for q in only.split(",") if q.strip()]
    bad = [q for q in chosen if q not in QUESTIONS]
    if bad or not chosen:
        raise UsageError(f"--only takes a comma list of {', '.join(QUESTIONS)}, not {only!r}")
    common.check_ovn_version(ovn_version)
    history = Timeline(chosen, ovn_version, router, ip, _moment(since, "--since"),
                       _moment(until, "--until"))
    inputs = common.Inputs(db, None, fmt, timeout=30.0, allow_truncated=allow_truncated,
                           ovn_version=ovn_version, on_txn=history.on_txn)
    snap = common.load_snapshot(db, "nb", inputs)
    answer = history.answer(snap.info.source, snap.info.records)
    common.emit(answer, fmt, wide)
