"""The ``timeline`` question: one NB file's own history, transaction by transaction.

A standalone log (or a clustered file's entries) holds every transaction with its
``_date`` and ``_comment``.  The file is replayed; after each transaction the topology
catches up with only the rows it touched (``Topology.refresh``), the questions are asked
again of the routers it affected, and every change of their rows becomes an event with
the record number, date and comment.  ``nat`` and ``gateways`` are asked per router;
``failover-sim`` and ``check`` look at the whole NB and are asked again whenever anything
changed (slower on long logs).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Iterable, Optional

from ..sources.ovsdb_file import TxnEvent
from ..topology import Router, Topology
from .diff import compare
from .model import Answer, Field, Kind

PER_ROUTER = ("nat", "gateways")
WHOLE = ("failover-sim", "check")
QUESTIONS = PER_ROUTER + WHOLE
DEFAULT_QUESTIONS = PER_ROUTER


def _askers() -> dict[str, Callable[..., Answer]]:
    from .check import check_answer
    from .failover import failover_answer
    from .gateways import gateways_answer
    from .nat import nat_answer
    return {"nat": nat_answer, "gateways": gateways_answer,
            "failover-sim": lambda topo, routers=None: failover_answer(topo, routers),
            "check": lambda topo, routers=None: check_answer(topo)}


def iso_date(ms: Any) -> Optional[str]:
    """A transaction's ``_date`` (ms since the epoch) as ISO 8601 UTC."""
    if not isinstance(ms, (int, float)) or isinstance(ms, bool):
        return None
    try:
        moment = dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Timeline:
    """Collects the events of a replay; feed it every :class:`TxnEvent` (``on_txn``)."""

    def __init__(self, questions: Iterable[str] = DEFAULT_QUESTIONS,
                 ovn_version: Optional[str] = None, router: Optional[str] = None,
                 ip: Optional[str] = None, since: Optional[float] = None,
                 until: Optional[float] = None) -> None:
        self.questions = [q for q in QUESTIONS if q in set(questions)]
        self.ovn_version = ovn_version
        self.router, self.ip = router, ip
        self.since, self.until = since, until
        self.topo: Optional[Topology] = None
        self.askers = _askers()
        # question -> router UUID (or "" for whole-NB questions) -> rows
        self.rows: dict[str, dict[str, list[dict[str, Any]]]] = {q: {} for q in self.questions}
        self.fields: dict[str, tuple[Field, ...]] = {}
        self.events: list[dict[str, Any]] = []
        self.transactions = 0
        self.base_record: Optional[int] = None
        self.first_date: Optional[str] = None
        self.last_date: Optional[str] = None

    # -- replay -------------------------------------------------------------------------------
    def on_txn(self, event: TxnEvent) -> None:
        if self.topo is None:
            from ..sources import prepare_history

            prepare_history(event.snap)
            self.topo = Topology(event.snap, None, self.ovn_version)
            self.topo.track()
            affected: Optional[set[str]] = None
        else:
            affected = self.topo.refresh(event.touched, event.columns)
        self.transactions += 1
        date = iso_date(event.specials.get("_date"))
        if date is not None:
            self.first_date = self.first_date or date
            self.last_date = date
        if event.base and event.touched:
            self.base_record = event.record
            self._ask(affected, None)   # the starting state: no events
            return
        if (affected is not None and not affected and not self.topo.nat_changes
                and not self._whole_changed(event)):
            return
        self._ask(affected, {"record": event.record, "date": date,
                             "date_ms": event.specials.get("_date"),
                             "comment": event.specials.get("_comment")})

    def _whole_changed(self, event: TxnEvent) -> bool:
        """Whole-NB questions (check) also read switches and their ports."""
        return "check" in self.questions and bool(event.touched)

    def _ask(self, affected: Optional[set[str]], origin: Optional[dict[str, Any]]) -> None:
        assert self.topo is not None
        topo = self.topo
        for question in self.questions:
            stored = self.rows[question]
            if question == "nat" and affected is not None and topo.nat_changes:
                self._ask_nats(stored, origin)
            if question in PER_ROUTER and affected is not None and not affected:
                continue
            if question in PER_ROUTER:
                if affected is None:
                    routers: Optional[list[Router]] = None
                    old = [r for rows in stored.values() for r in rows]
                    stored.clear()
                else:
                    routers = [topo.routers[u] for u in affected if u in topo.routers]
                    old = [r for u in affected for r in stored.pop(u, ())]
                answer = self.askers[question](topo, routers)
                for row in answer.rows:
                    stored.setdefault(row["router_uuid"], []).append(row)
            else:
                old = stored.pop("", [])
                answer = self.askers[question](topo)
                stored[""] = answer.rows
            self.fields[question] = answer.fields
            if origin is None:
                continue
            before = Answer(question, answer.collection, answer.fields, old)
            for change in compare(before, answer):
                if self._wanted(change, origin):
                    self.events.append({**origin, **change})

    def _ask_nats(self, stored: dict[str, list[dict[str, Any]]],
                  origin: Optional[dict[str, Any]]) -> None:
        """Routers whose NATs alone changed: ask again about those NATs only."""
        from ..analysis.placement import classify_nats
        from .nat import verdicts_answer

        topo = self.topo
        assert topo is not None
        for uuid, nat_uuids in topo.nat_changes.items():
            router = topo.routers[uuid]
            rows = stored.pop(uuid, [])
            old = [r for r in rows if r["uuid"] in nat_uuids]
            kept = [r for r in rows if r["uuid"] not in nat_uuids]
            answer = verdicts_answer(topo, classify_nats(
                topo, router, [n for n in router.nats if n.uuid in nat_uuids]))
            if kept or answer.rows:
                stored[uuid] = kept + answer.rows
            self.fields["nat"] = answer.fields
            if origin is None:
                continue
            before = Answer("nat", answer.collection, answer.fields, old)
            for change in compare(before, answer):
                if self._wanted(change, origin):
                    self.events.append({**origin, **change})

    def _wanted(self, change: dict[str, Any], origin: dict[str, Any]) -> bool:
        key = change["key"]
        if self.router is not None and self.router not in (key.get("router"),
                                                           self._router_uuid(change)):
            return False
        if self.ip is not None:
            row = change["after"] or change["before"] or {}
            if self.ip not in (row.get("external_ip"), row.get("logical_ip"),
                               _bare(row.get("external_ip")), _bare(row.get("logical_ip"))):
                return False
        when = origin.get("date_ms")
        if self.since is not None and (not isinstance(when, (int, float)) or when < self.since):
            return False
        return not (self.until is not None and isinstance(when, (int, float))
                    and when > self.until)

    @staticmethod
    def _router_uuid(change: dict[str, Any]) -> Optional[str]:
        row = change["after"] or change["before"] or {}
        return row.get("router_uuid")

    # -- the answer -------------------------------------------------------------------------
    def answer(self, source: str, records: int, fmt_note: Optional[str] = None) -> Answer:
        counts: dict[str, int] = {}
        for e in self.events:
            counts[e["question"]] = counts.get(e["question"], 0) + 1
        summary = []
        if self.transactions <= 1 or (self.base_record is not None and self.transactions == 1):
            summary.append(f"{source} holds one state and no history (a compacted file or a "
                           "backup): nothing to replay")
        else:
            start = (f"after the snapshot in record {self.base_record}"
                     if self.base_record is not None else "from an empty database")
            summary.append(f"{self.transactions} transaction(s) replayed {start}"
                           + (f", {self.first_date} to {self.last_date}"
                              if self.first_date else "") + ": "
                           + (", ".join(f"{n} {q} event(s)" for q, n in counts.items())
                              or "no change of " + ", ".join(self.questions)))
        if fmt_note:
            summary.append(fmt_note)
        meta = {"source": source, "records": records, "transactions": self.transactions,
                "questions": list(self.questions), "summary": summary,
                "counts": counts}
        if self.topo is not None:
            meta["ovn_version"] = self.topo.version.label()
        return Answer("timeline", "events", EVENT_FIELDS, self.events, meta, summary,
                      empty_message="no events")


def _bare(text: Any) -> Any:
    return text.split("/")[0].strip() if isinstance(text, str) else text


def _values_text(event: dict[str, Any]) -> str:
    from .diff import _values_text as values
    return values(event)


EVENT_FIELDS = (
    Field("record", "RECORD", Kind.NUMBER, is_key=True),
    Field("date", "DATE"),
    Field("question", "QUESTION", is_key=True),
    Field("change", "CHANGE", color={"added": "green", "removed": "red",
                                     "changed": "yellow"}.get),
    Field("key", "OBJECT", Kind.DATA, is_key=True, wrap=True,
          show=lambda e: " ".join(str(v) for v in e["key"].values() if v is not None)),
    Field("fields", "BEFORE -> AFTER", Kind.LIST, wrap=True, show=_values_text),
    Field("comment", "COMMENT", wrap=True),
)
