"""What differs between two answers to one question: rows joined on their key fields.

A change is ``added`` (a key only in the new answer), ``removed`` (only in the old one) or
``changed`` (the compared fields differ).  Rows whose key repeats (two identical NAT keys)
are paired in order.  Everything the questions do not see is not reported.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Iterable, Optional

from .model import Answer, Field, Kind

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
_TYPE_WORDS = {"dnat_and_snat": "FIP", "snat": "SNAT", "dnat": "DNAT"}


def _indexed(answer: Answer) -> dict[tuple, dict[str, Any]]:
    """Rows by key; a repeated key gets its occurrence number appended."""
    out: dict[tuple, dict[str, Any]] = {}
    key_of = answer.key
    for row in answer.rows:
        key = key_of(row)
        if key in out:
            n = 2
            while key + (n,) in out:
                n += 1
            key = key + (n,)
        out[key] = row
    return out


def compare(old: Answer, new: Answer) -> list[dict[str, Any]]:
    """The changes from ``old`` to ``new`` (same question), in the new answer's order,
    then the removed rows in the old one's."""
    keys = new.key_fields
    compared = [f.key for f in new.fields if f.compared and not f.is_key and not f.csv_only]
    before, after = _indexed(old), _indexed(new)
    out = []
    for key, row in after.items():
        old_row = before.get(key)
        if old_row is None:
            out.append(_change(new, ADDED, keys, None, row, []))
            continue
        if old_row == row:
            continue
        fields = [k for k in compared if old_row.get(k) != row.get(k)]
        if fields:
            out.append(_change(new, CHANGED, keys, old_row, row, fields))
    for key, row in before.items():
        if key not in after:
            out.append(_change(new, REMOVED, keys, row, None, []))
    return out


def _change(answer: Answer, change: str, keys: tuple[Field, ...],
            before: Optional[dict], after: Optional[dict], fields: list[str]) -> dict[str, Any]:
    row = after if after is not None else before
    assert row is not None
    return {"question": answer.question, "change": change,
            "key": {f.key: row.get(f.key) for f in keys},
            "before": before, "after": after, "fields": fields}


def summarize(question: str, changes: list[dict[str, Any]]) -> list[str]:
    """Sentences an operator reads first: "12 FIPs became centralized (were distributed)",
    "DGP vpc1-external0 lost member node-46", "3 new error findings"."""
    mine = [c for c in changes if c["question"] == question]
    if not mine:
        return []
    out: list[str] = []
    kinds = Counter(c["change"] for c in mine)
    if question == "nat":
        flips: Counter = Counter()
        for c in mine:
            if c["change"] == CHANGED and "mode" in c["fields"]:
                word = _TYPE_WORDS.get(c["key"]["type"], "NAT")
                flips[(word, c["after"]["mode"], c["before"]["mode"])] += 1
        for (word, now, was), n in sorted(flips.items()):
            out.append(f"{n} {word}{'s' if n > 1 else ''} became {now} (were {was})")
        moved = sum(1 for c in mine if c["change"] == CHANGED and "chassis" in c["fields"]
                    and "mode" not in c["fields"])
        if moved:
            out.append(f"{moved} NAT(s) handled on another chassis")
    elif question == "gateways":
        for c in mine:
            if c["change"] != CHANGED:
                continue
            port = c["key"]["port"] or f"gateway router {c['key']['router']}"
            old = {m["chassis"]: m["priority"] for m in c["before"]["members"]}
            new = {m["chassis"]: m["priority"] for m in c["after"]["members"]}
            for ch in sorted(set(old) - set(new)):
                out.append(f"DGP {port} lost member {ch}")
            for ch in sorted(set(new) - set(old)):
                out.append(f"DGP {port} gained member {ch} (priority {new[ch]})")
            for ch in sorted(k for k in set(old) & set(new) if old[k] != new[k]):
                out.append(f"DGP {port}: {ch} priority {old[ch]} -> {new[ch]}")
            for key, what in (("active_predicted", "predicted"), ("active_observed",
                                                                   "observed")):
                if key in c["fields"]:
                    out.append(f"DGP {port}: {what} active {c['before'][key] or 'none'} -> "
                               f"{c['after'][key] or 'none'}")
    elif question == "failover-sim":
        became: Counter = Counter()
        for c in mine:
            if c["change"] == CHANGED and "reachable" in c["fields"]:
                became[_reach_word(c["after"]["reachable"])] += 1
        for word, n in sorted(became.items()):
            out.append(f"{n} entr{'ies' if n > 1 else 'y'} became {word}")
    elif question == "check":
        new_sev = Counter(c["after"]["severity"] for c in mine if c["change"] == ADDED)
        gone = kinds.get(REMOVED, 0)
        for sev in ("error", "warning", "info"):
            if new_sev.get(sev):
                n = new_sev[sev]
                out.append(f"{n} new {sev} finding{'s' if n > 1 else ''}")
        if gone:
            out.append(f"{gone} finding{'s' if gone > 1 else ''} resolved")
        kinds.pop(ADDED, None)
        kinds.pop(REMOVED, None)
    counts = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    if counts:
        out.append(f"{question}: {counts}")
    return out


def _reach_word(value: Optional[bool]) -> str:
    return {True: "reachable", False: "unreachable"}.get(value, "undecidable")  # type: ignore


def _values_text(change: dict[str, Any]) -> str:
    """``mode: distributed -> centralized; chassis: a -> b`` (table cell)."""
    if change["change"] != CHANGED:
        return "-"
    parts = []
    for key in change["fields"]:
        before, after = change["before"].get(key), change["after"].get(key)
        parts.append(f"{key}: {_short(before)} -> {_short(after)}")
    return "; ".join(parts)


def _short(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value)) or "-"
    return str(value)


CHANGE_FIELDS = (
    Field("question", "QUESTION", is_key=True),
    Field("change", "CHANGE", color={ADDED: "green", REMOVED: "red",
                                     CHANGED: "yellow"}.get),
    Field("key", "OBJECT", Kind.DATA, is_key=True, wrap=True,
          show=lambda c: " ".join(str(v) for v in c["key"].values() if v is not None)),
    Field("fields", "BEFORE -> AFTER", Kind.LIST, wrap=True, show=_values_text),
)


def diff_answer(pairs: Iterable[tuple[Answer, Answer]], against: str, source: str,
                fail_on_change: bool = False) -> Answer:
    """One answer of every change between old and new answers of each question."""
    changes: list[dict[str, Any]] = []
    summary: list[str] = []
    questions = []
    for old, new in pairs:
        found = compare(old, new)
        changes.extend(found)
        summary.extend(summarize(new.question, found))
        questions.append(new.question)
    by_question: dict[str, int] = defaultdict(int)
    for c in changes:
        by_question[c["question"]] += 1
    if not changes:
        summary.append(f"no change in {', '.join(questions)}")
    meta = {"against": against, "source": source, "questions": questions,
            "summary": summary, "counts": dict(by_question)}
    return Answer("diff", "changes", CHANGE_FIELDS, changes, meta, summary=summary,
                  exit_code=1 if fail_on_change and changes else 0,
                  empty_message=f"no change against {against}")
