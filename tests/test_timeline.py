"""``ovninspect timeline``: one NB log replayed transaction by transaction.

A log written by a real ovsdb-server while a known sequence of ovn-nbctl commands runs
must come back as exactly those events, in order, with the commands as comments; and at
every transaction the incremental answers (``Topology.refresh``) must equal the answers of
a topology built from scratch.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from ovninspect.answers.gateways import gateways_answer
from ovninspect.answers.nat import nat_answer
from ovninspect.answers.timeline import Timeline
from ovninspect.cli import run
from ovninspect.sources import LoadOptions, open_snapshot
from ovninspect.sources.ovsdb_file import TxnEvent
from ovninspect.topology import Topology
from tests.oracle import stop_lab
from tests.ovnlab import LabError, OvnLab

pytestmark = pytest.mark.ovn
ROOT = Path(__file__).resolve().parent.parent

# (ovn-nbctl arguments, the events they must produce: (question, change, key, fields))
STEPS: list[tuple[list[str], list[tuple]]] = [
    (["lr-add", "vpc1"], []),
    (["ls-add", "ext"], []),
    (["lrp-add", "vpc1", "vpc1-ext", "00:00:00:00:01:01", "10.0.1.1/24"], []),
    (["lrp-set-gateway-chassis", "vpc1-ext", "gw1", "20"],
     [("gateways", "added", ("vpc1", "vpc1-ext"), ())]),
    (["lr-nat-add", "vpc1", "dnat_and_snat", "10.0.1.11", "192.168.1.11"],
     [("nat", "added", ("vpc1", "dnat_and_snat", "10.0.1.11", "192.168.1.11"), ())]),
    (["ls-add", "int"], []),
    (["lsp-add", "int", "pod1", "--", "lsp-set-addresses", "pod1",
      "0a:00:00:00:00:11 192.168.1.11"], []),
    (["lsp-add", "int", "pod2", "--", "lsp-set-addresses", "pod2",
      "0a:00:00:00:00:12 192.168.1.12"], []),
    (["lr-nat-del", "vpc1", "dnat_and_snat", "10.0.1.11"],
     [("nat", "removed", ("vpc1", "dnat_and_snat", "10.0.1.11", "192.168.1.11"), ())]),
    (["lr-nat-add", "vpc1", "dnat_and_snat", "10.0.1.11", "192.168.1.11", "pod1",
      "0a:00:00:00:f0:11"],
     [("nat", "added", ("vpc1", "dnat_and_snat", "10.0.1.11", "192.168.1.11"), ())]),
    (["lrp-set-gateway-chassis", "vpc1-ext", "gw2", "10"],
     [("gateways", "changed", ("vpc1", "vpc1-ext"), ("member_list",))]),
    (["lsp-add", "int", "pod3"], []),
    (["set", "Logical_Router", "vpc1", "enabled=false"],
     [("nat", "changed", ("vpc1", "dnat_and_snat", "10.0.1.11", "192.168.1.11"),
       ("mode", "gateway_port"))]),
    (["set", "Logical_Router", "vpc1", "enabled=true"],
     [("nat", "changed", ("vpc1", "dnat_and_snat", "10.0.1.11", "192.168.1.11"),
       ("mode", "gateway_port"))]),
    (["lsp-del", "pod1"], [("nat", "changed",
                            ("vpc1", "dnat_and_snat", "10.0.1.11", "192.168.1.11"),
                            ("flags",))]),
    (["lrp-del-gateway-chassis", "vpc1-ext", "gw1"],
     [("gateways", "changed", ("vpc1", "vpc1-ext"), ("member_list", "active_predicted"))]),
    (["lrp-del-gateway-chassis", "vpc1-ext", "gw2"],
     [("gateways", "removed", ("vpc1", "vpc1-ext"), ()),
      ("nat", "changed", ("vpc1", "dnat_and_snat", "10.0.1.11", "192.168.1.11"),
       ("mode", "gateway_port", "flags"))]),
]
KEYS = {"nat": ("router", "type", "external_ip", "logical_ip"), "gateways": ("router", "port")}


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A standalone log written by ovsdb-server while STEPS ran, one transaction each."""
    lab = OvnLab().start_nb()
    try:
        for args, _ in STEPS:
            lab.nbctl(*args)
        out = tmp_path_factory.mktemp("timeline") / "nb.db"
        shutil.copyfile(lab.nb_db, out)
        return out
    finally:
        stop_lab(lab)


def _brief(event: dict[str, Any]) -> tuple:
    return (event["question"], event["change"],
            tuple(event["key"][k] for k in KEYS[event["question"]]), tuple(event["fields"]))


def test_known_commands_come_back_as_events(log: Path, capsys: pytest.CaptureFixture) -> None:
    capsys.readouterr()
    assert run(["timeline", "--db", str(log), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    events = data["events"]
    # every command is one transaction after the schema record (and northd never ran)
    by_record: dict[int, list[dict]] = {}
    for e in events:
        by_record.setdefault(e["record"], []).append(e)
    expected = {}
    for step, (args, wanted) in enumerate(STEPS):
        if wanted:
            expected[step + 1] = (args, wanted)
    assert sorted(by_record) == sorted(expected)
    for record, (args, wanted) in expected.items():
        got = by_record[record]
        assert sorted(map(_brief, got)) == sorted(wanted), (args, got)
        for e in got:
            assert e["comment"].startswith("ovn-nbctl: ") and args[0] in e["comment"]
            assert e["date"].endswith("Z") and isinstance(e["date_ms"], int)
    assert [e["record"] for e in events] == sorted(e["record"] for e in events)
    assert data["transactions"] == len(STEPS)
    mode_flip = by_record[13][0]
    assert (mode_flip["before"]["mode"], mode_flip["after"]["mode"]) == ("distributed",
                                                                          "inactive")
    assert "logical-port-missing" in by_record[15][0]["after"]["flags"]


def test_filters(log: Path, capsys: pytest.CaptureFixture) -> None:
    def events(*args: str) -> list[dict]:
        capsys.readouterr()
        assert run(["timeline", "--db", str(log), "--format", "json", *args]) == 0
        return json.loads(capsys.readouterr().out)["events"]

    every = events()
    assert {e["question"] for e in events("--only", "nat")} == {"nat"}
    assert all(e["key"].get("external_ip") == "10.0.1.11" for e in events("--ip", "10.0.1.11"))
    assert events("--router", "nope") == []
    middle = every[len(every) // 2]["date_ms"]
    late = events("--since", str(middle / 1000))
    assert late and all(e["date_ms"] >= middle for e in late) and len(late) < len(every)
    assert events("--until", "2001-01-01") == []
    with_failover = events("--only", "nat,failover-sim,check")
    assert {e["question"] for e in with_failover} == {"nat", "failover-sim", "check"}


def _full(snap: Any, questions: tuple[str, ...] = ("nat", "gateways")) -> dict[str, list]:
    from ovninspect.answers.failover import failover_answer

    topo = Topology(snap)
    askers = {"nat": nat_answer, "gateways": gateways_answer,
              "failover-sim": failover_answer}
    return {q: sorted(map(_row_key, askers[q](topo).rows)) for q in questions}


def _row_key(row: dict[str, Any]) -> str:
    return json.dumps(row, sort_keys=True, default=str)


@pytest.mark.parametrize("source", ["log", "fixtures/base/nb-log.db",
                                    "fixtures/base/nb-clustered.db",
                                    "fixtures/base/nb-compacted-plus-diffs.db"])
def test_incremental_equals_full(source: str, log: Path) -> None:
    """After every transaction the timeline's rows are those of a fresh topology."""
    path = log if source == "log" else ROOT / source
    history = Timeline()
    checked = []

    def on_txn(event: TxnEvent) -> None:
        history.on_txn(event)
        incremental = {q: sorted(_row_key(r) for rows in history.rows[q].values()
                                 for r in rows) for q in ("nat", "gateways")}
        assert incremental == _full(event.snap), f"record {event.record}"
        checked.append(event.record)

    open_snapshot(str(path), "nb", LoadOptions(on_txn=on_txn))
    assert len(checked) >= 5


def test_no_history_and_no_live(capsys: pytest.CaptureFixture) -> None:
    capsys.readouterr()
    assert run(["timeline", "--db", str(ROOT / "fixtures/base/nb-compacted.db")]) == 0
    assert "no history" in capsys.readouterr().out
    assert run(["timeline", "--db", "unix:/nonexistent.sock"]) == 2
    assert "needs a file" in capsys.readouterr().err
    assert run(["timeline", "--db", str(ROOT / "fixtures/base/nb-log.db"),
                "--since", "yesterday"]) == 2


# -- random histories -----------------------------------------------------------------------
# Operations on a small fixed vocabulary, so they collide: routers r0..r2, switches s0..s2,
# ports p0..p3, chassis c0..c2.  A command ovn-nbctl refuses makes no transaction.
ROUTERS, SWITCHES, PODS, CHASSIS = ("r0", "r1", "r2"), ("s0", "s1", "s2"), \
    ("p0", "p1", "p2", "p3"), ("c0", "c1", "c2")


def _ops() -> Any:
    from hypothesis import strategies as st

    r, s, p, c = (st.sampled_from(x) for x in (ROUTERS, SWITCHES, PODS, CHASSIS))
    n = st.integers(1, 3)
    return st.one_of(
        st.tuples(st.just("lr-add"), r), st.tuples(st.just("lr-del"), r),
        st.tuples(st.just("ls-add"), s), st.tuples(st.just("ls-del"), s),
        st.tuples(st.just("connect"), r, s), st.tuples(st.just("lrp-del"), r, s),
        st.tuples(st.just("gw-add"), r, s, c, st.integers(1, 30)),
        st.tuples(st.just("gw-del"), r, s, c),
        st.tuples(st.just("localnet"), s), st.tuples(st.just("localnet-del"), s),
        st.tuples(st.just("pod"), s, p), st.tuples(st.just("pod-del"), p),
        st.tuples(st.just("fip"), r, n, st.one_of(st.none(), p)),
        st.tuples(st.just("snat"), r, n), st.tuples(st.just("nat-del"), r, n),
        st.tuples(st.just("enable"), r, st.booleans()),
        st.tuples(st.just("gr"), r, st.one_of(st.none(), c)),
        st.tuples(st.just("release"), st.sampled_from(["23.03.1", "25.03.0"])),
    )


def _command(op: tuple) -> list[str]:
    kind, *a = op
    if kind == "lr-add":
        return ["--may-exist", "lr-add", a[0]]
    if kind == "lr-del":
        return ["--if-exists", "lr-del", a[0]]
    if kind == "ls-add":
        return ["--may-exist", "ls-add", a[0]]
    if kind == "ls-del":
        return ["--if-exists", "ls-del", a[0]]
    if kind == "connect":
        r, s = a
        k = ROUTERS.index(r) * 3 + SWITCHES.index(s) + 1
        lrp, lsp = f"{r}-{s}", f"{s}-{r}"
        return ["lrp-add", r, lrp, f"00:00:00:00:{k:02x}:01", f"10.{k}.0.1/24", "--",
                "lsp-add", s, lsp, "--", "lsp-set-type", lsp, "router", "--",
                "lsp-set-options", lsp, f"router-port={lrp}"]
    if kind == "lrp-del":
        return ["--if-exists", "lrp-del", f"{a[0]}-{a[1]}", "--", "--if-exists", "lsp-del",
                f"{a[1]}-{a[0]}"]
    if kind == "gw-add":
        return ["lrp-set-gateway-chassis", f"{a[0]}-{a[1]}", a[2], str(a[3])]
    if kind == "gw-del":
        return ["lrp-del-gateway-chassis", f"{a[0]}-{a[1]}", a[2]]
    if kind == "localnet":
        ln = f"ln-{a[0]}"
        return ["lsp-add", a[0], ln, "--", "lsp-set-type", ln, "localnet", "--",
                "lsp-set-options", ln, "network_name=physnet"]
    if kind == "localnet-del":
        return ["--if-exists", "lsp-del", f"ln-{a[0]}"]
    if kind == "pod":
        k = PODS.index(a[1]) + 1
        return ["lsp-add", a[0], a[1], "--", "lsp-set-addresses", a[1],
                f"0a:00:00:00:00:{k:02x} 192.168.0.{k}"]
    if kind == "pod-del":
        return ["--if-exists", "lsp-del", a[0]]
    if kind == "fip":
        r, n, pod = a
        k = ROUTERS.index(r) * 3 + 1
        extra = [pod, f"0a:00:00:00:f{n}:0{k}"] if pod else []
        return ["--may-exist", "lr-nat-add", r, "dnat_and_snat", f"10.{k}.0.{10 + n}",
                f"192.168.0.{n}", *extra]
    if kind == "snat":
        k = ROUTERS.index(a[0]) * 3 + 1
        return ["--may-exist", "lr-nat-add", a[0], "snat", f"10.{k}.0.{20 + a[1]}",
                f"192.168.{a[1]}.0/24"]
    if kind == "nat-del":
        k = ROUTERS.index(a[0]) * 3 + 1
        return ["--if-exists", "lr-nat-del", a[0], "dnat_and_snat", f"10.{k}.0.{10 + a[1]}"]
    if kind == "enable":
        return ["set", "Logical_Router", a[0], f"enabled={str(a[1]).lower()}"]
    if kind == "gr":
        if a[1] is None:
            return ["remove", "Logical_Router", a[0], "options", "chassis"]
        return ["set", "Logical_Router", a[0], f"options:chassis={a[1]}"]
    return ["set", "NB_Global", ".", f"options:northd_internal_version={a[0]}-x"]


def _random_history_matches(history: list[tuple], tmp: Path) -> int:
    lab = OvnLab().start_nb()
    try:
        for op in history:
            with contextlib.suppress(LabError):  # refused (no such router...): no txn
                lab.nbctl(*_command(op))
        path = tmp / "nb.db"
        shutil.copyfile(lab.nb_db, path)
    finally:
        stop_lab(lab)
    questions = ("nat", "gateways", "failover-sim")
    timeline = Timeline(questions)
    seen = []

    def on_txn(event: TxnEvent) -> None:
        timeline.on_txn(event)
        incremental = {q: sorted(_row_key(r) for rows in timeline.rows[q].values()
                                 for r in rows) for q in questions}
        assert incremental == _full(event.snap, questions), \
            f"after {history[:len(seen) + 1]}"
        seen.append(event.record)

    open_snapshot(str(path), "nb", LoadOptions(on_txn=on_txn))
    return len(seen)


def test_random_histories_incremental_equals_full(tmp_path_factory) -> None:
    """Random ovn-nbctl histories on routers, DGPs, gateway members, switches, localnets,
    pods, NATs, gateway routers and release changes: after every transaction the
    incremental timeline equals a topology built from scratch."""
    from hypothesis import HealthCheck, example, given, settings
    from hypothesis import strategies as st

    # rule 13 on >= 25.03: the DGP's switch gains and loses its localnet
    rule13 = [("release", "25.03.0"), ("lr-add", "r0"), ("ls-add", "s0"), ("ls-add", "s1"),
              ("connect", "r0", "s0"), ("gw-add", "r0", "s0", "c0", 10), ("pod", "s1", "p0"),
              ("fip", "r0", 1, "p0"), ("localnet", "s0"), ("pod", "s0", "p1"),
              ("localnet-del", "s0"), ("localnet", "s0"), ("ls-del", "s0")]

    @example(history=rule13)
    @settings(max_examples=int(os.environ.get("OVNINSPECT_TIMELINE_EXAMPLES", "15")),
              deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(history=st.lists(_ops(), min_size=10, max_size=40))
    def check(history: list[tuple]) -> None:
        _random_history_matches(history, tmp_path_factory.mktemp("history"))

    check()
