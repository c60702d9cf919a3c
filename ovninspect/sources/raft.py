"""The shape of clustered (raft) records, checked as ovsdb/raft-private.c parses them
(raft_header_from_json__, raft_record_from_json__): member types, required members, and
no member it does not know.  Returns what is wrong, or None."""

from __future__ import annotations

from typing import Any, Optional

from ..schema import INT64_MAX
from ..validate import UUID_MATCH


class _Members:
    """Takes members off a record one by one; what is left over is an error."""

    def __init__(self, body: dict) -> None:
        self.left = dict(body)
        self.error: Optional[str] = None

    def _fail(self, text: str) -> None:
        if self.error is None:
            self.error = text

    def take(self, name: str) -> Any:
        return self.left.pop(name, None)

    def uint(self, name: str, required: bool = False) -> int:
        value = self.take(name)
        if value is None:
            if required:
                self._fail(f"raft record lacks {name}")
            return 0
        if value.__class__ is float and value.is_integer() and value < INT64_MAX:
            value = int(value)
        if value.__class__ is not int or not 0 <= value <= INT64_MAX:
            self._fail(f"raft {name} is not a non-negative integer: {str(value)[:40]}")
            return 0
        return value

    def uuid(self, name: str, required: bool = True) -> Optional[str]:
        value = self.take(name)
        if value is None:
            if required:
                self._fail(f"raft record lacks {name}")
            return None
        if value.__class__ is not str or not UUID_MATCH(value):
            self._fail(f"raft {name} is not a UUID: {str(value)[:40]}")
            return None
        return value

    def string(self, name: str, required: bool = False) -> Optional[str]:
        value = self.take(name)
        if value is None:
            if required:
                self._fail(f"raft record lacks {name}")
            return None
        if value.__class__ is not str:
            self._fail(f"raft {name} is not a string")
        return value

    def servers(self, name: str, required: bool = False) -> None:
        value = self.take(name)
        if value is None:
            if required:
                self._fail(f"raft record lacks {name}")
            return
        if value.__class__ is not dict or not value or not all(
                k.__class__ is str and UUID_MATCH(k) and v.__class__ is str
                for k, v in value.items()):
            self._fail(f"raft {name} is not an object of server IDs and addresses")

    def data(self, name: str, kinds: tuple = (dict, list)) -> Any:
        value = self.take(name)
        if value is not None and value.__class__ not in kinds:
            self._fail(f"raft {name} is not an object or array")
        return value

    def finish(self) -> Optional[str]:
        if self.error is None and self.left:
            self.error = f"raft record has unknown member {sorted(self.left)[0]!r}"
        return self.error


def header_error(body: Any) -> Optional[str]:
    """What is wrong with a raft header (record 0)."""
    if body.__class__ is not dict:
        return "first record is not a raft header"
    m = _Members(body)
    m.uuid("server_id")
    m.string("name", required=True)
    m.string("local_address", required=True)
    joining = m.take("remote_addresses")
    if joining is None:
        m.servers("prev_servers", required=True)
        if m.uint("prev_index"):
            if "prev_data" not in m.left:
                m._fail("raft header lacks prev_data")
            m.take("prev_data")
            m.uuid("prev_eid")
            m.uint("prev_term", required=True)
            m.uint("prev_election_timer")
    elif joining.__class__ is not list or not all(a.__class__ is str for a in joining):
        m._fail("raft remote_addresses is not a list of addresses")
    m.uuid("cluster_id", required=joining is None)
    return m.finish()


def record_error(body: Any) -> Optional[str]:
    """What is wrong with a raft record after the header."""
    if body.__class__ is not dict:
        return "raft record is not an object"
    m = _Members(body)
    m.string("comment")
    if m.string("note") is not None:
        return m.finish()
    if m.uint("commit_index"):
        return m.finish()
    m.uint("term", required=True)
    for name in ("leader", "vote"):
        if name in m.left:
            if m.uuid(name) == "00000000-0000-0000-0000-000000000000":
                m._fail(f"raft {name} is the all-zeros server ID")
            return m.finish()
    if m.uint("index"):
        m.servers("servers")
        m.uint("election_timer")
        if m.data("data") is not None:
            m.uuid("eid")
    return m.finish()
