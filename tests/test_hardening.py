"""Issue #11: one line and never a traceback; values checked as ovsdb-server checks them;
a closed stdout; snapshot -o never over an input; bounded reads of hostile files."""

from __future__ import annotations

import gzip
import json
import os
import stat
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from ovninspect.sources.records import compose_record
from tests.ovnlab import NB_SCHEMA
from tests.test_readers_parity import FIXTURES, run_cli

UUID = "4f2c7e2a-0000-4000-8000-0000000000{:02d}"
NB = FIXTURES / "kubeovn-5050" / "nb.db"


def nb_file(path: Path, txn: dict, schema_edit: object = None) -> Path:
    schema = json.loads(NB_SCHEMA.read_text())
    if schema_edit is not None:
        schema_edit(schema)  # type: ignore[operator]
    path.write_bytes(compose_record(schema) + compose_record({**txn, "_date": 1}))
    return path


def one_line(proc: subprocess.CompletedProcess, path: object) -> str:
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"ovninspect: {path}"), lines[0]
    return lines[0]


# -- values ovsdb-server refuses never reach the analyses --------------------------------
ROUTER_NAT = {"Logical_Router": {UUID.format(1): {
    "name": "r", "nat": ["uuid", UUID.format(2)]}}}
REFUSED = {
    "nat type bogus": {**ROUTER_NAT, "NAT": {UUID.format(2): {
        "type": "bogus", "external_ip": "10.0.0.1", "logical_ip": "10.1.0.1"}}},
    "integer external_ip": {**ROUTER_NAT, "NAT": {UUID.format(2): {
        "type": "snat", "external_ip": 7, "logical_ip": "10.1.0.1"}}},
    "router name 7": {"Logical_Router": {UUID.format(1): {"name": 7}}},
    "priority 40000": {"Gateway_Chassis": {UUID.format(3): {
        "name": "gc", "chassis_name": "ch", "priority": 40000}}},
    "integer chassis_name": {"Gateway_Chassis": {UUID.format(3): {
        "name": "gc", "chassis_name": 5, "priority": 1}}},
    "invalid row uuid": {"Logical_Router": {"not-a-uuid": {"name": "r"}}},
    "duplicate map key": {"Logical_Router": {UUID.format(1): {
        "name": "r", "options": ["map", [["a", "1"], ["a", "2"]]]}}},
    "integer beyond 64 bits": {"Gateway_Chassis": {UUID.format(3): {
        "name": "gc", "chassis_name": "ch", "priority": 2**64}}},
}


@pytest.mark.parametrize("case", REFUSED)
@pytest.mark.parametrize("command", ["info", "nat", "gateways"])
def test_invalid_values_are_refused_by_every_command(case: str, command: str,
                                                     tmp_path: Path) -> None:
    path = nb_file(tmp_path / "bad.db", REFUSED[case])
    line = one_line(run_cli(command, "--db", str(path)), path)
    assert "record 1 at byte offset" in line


@pytest.mark.parametrize("raw", [b"1e999", b"NaN", b"-Infinity", b'"a\\u0000"'])
def test_json_ovsdb_server_refuses(raw: bytes, tmp_path: Path) -> None:
    body = b'{"Gateway_Chassis":{"%s":{"name":"gc","chassis_name":"c","priority":%s}},' \
           b'"_date":1}\n' % (UUID.format(3).encode(), raw)
    path = tmp_path / "bad.db"
    path.write_bytes(compose_record(json.loads(NB_SCHEMA.read_text()))
                     + b"OVSDB JSON %d %s\n" % (len(body), __import__("hashlib").sha1(
                         body).hexdigest().encode()) + body)
    one_line(run_cli("nat", "--db", str(path)), path)


def test_schema_without_a_column_the_analyses_read(tmp_path: Path) -> None:
    def drop_vips(schema: dict) -> None:
        del schema["tables"]["Load_Balancer"]["columns"]["vips"]
    path = nb_file(tmp_path / "old.db", {
        "Load_Balancer": {UUID.format(4): {"name": "lb"}},
        "Logical_Router": {UUID.format(1): {"name": "r", "load_balancer":
                                            ["uuid", UUID.format(4)]}}}, drop_vips)
    for command in ("nat", "check", "failover-sim", "gateways"):
        proc = run_cli(command, "--db", str(path), "--format", "json")
        assert proc.returncode in (0, 1), proc.stderr
        json.loads(proc.stdout)


@pytest.mark.parametrize("enum, ok", [
    (None, False),                                   # fuzz campaign seed 2001688
    (["set", ["ingress", 7]], False), (7, False),
    ("ingress", True), (["set", ["ingress", "egress"]], True)])
def test_schema_enum_must_be_a_datum_of_its_type(tmp_path: Path, enum: object,
                                                 ok: bool) -> None:
    """ovsdb-server parses an enum as a datum of the base type (ovsdb-tool: 'syntax "null":
    syntax error: expected string')."""
    def edit(schema: dict) -> None:
        schema["tables"]["QoS"]["columns"]["direction"]["type"]["key"]["enum"] = enum
    path = nb_file(tmp_path / "enum.db", {}, edit)
    proc = run_cli("info", "--db", str(path))
    assert proc.returncode == (0 if ok else 2), proc.stderr
    if not ok:
        assert "QoS.direction: enum" in proc.stderr and len(proc.stderr.splitlines()) == 1


def test_strong_reference_to_a_missing_row_is_refused(tmp_path: Path) -> None:
    """ovsdb-server checks referential integrity after every transaction (fuzz campaign
    seeds 2000856, 2001891: a diff record duplicated, then a delete of the NAT the router
    still references); weak references and the near miss of an existing row pass."""
    router = {UUID.format(1): {"name": "r", "nat": ["set", [["uuid", UUID.format(4)]]]}}
    good = nb_file(tmp_path / "good.db", {
        "Logical_Router": router,
        "NAT": {UUID.format(4): {"type": "snat", "external_ip": "172.16.0.1",
                                 "logical_ip": "10.0.0.0/24"}}})
    assert run_cli("nat", "--db", str(good)).returncode == 0
    bad = nb_file(tmp_path / "bad.db", {"Logical_Router": router})
    for command in ("nat", "info", "check"):
        proc = run_cli(command, "--db", str(bad))
        assert proc.returncode == 2
        (line,) = proc.stderr.splitlines()
        assert str(bad) in line and "column nat: strong reference to NAT row" in line


def big_port_table(tmp_path: Path, bad: dict) -> Path:
    """An NB whose switch-port table is large enough to be read lazily (> 1 MiB), with one
    extra row ``bad`` (its key: a valid UUID unless ``bad`` names another)."""
    ports = {UUID.format(10)[:-5] + f"{n:05d}": {"name": f"p{n}", "tag_request": 1}
             for n in range(20000)}
    ports.update(bad)
    path = nb_file(tmp_path / "big.db", {"Logical_Switch_Port": ports})
    assert path.stat().st_size > 1 << 20
    return path


COMMANDS = ("nat", "gateways", "check", "failover-sim", "info")


@pytest.mark.parametrize("bad", [
    {UUID.format(10)[:-5] + "100000": {"name": "bad"}},                # a 37-character key
    {UUID.format(10)[:-5] + "99999": {"name": "bad", "no_such": 1}},   # an unknown column
], ids=["row-key", "column"])
def test_bad_shape_in_an_unread_table_is_refused_by_every_command(tmp_path: Path,
                                                                  bad: dict) -> None:
    """What a table's shape says (row keys, columns) is checked at open, whatever reads it."""
    path = big_port_table(tmp_path, bad)
    codes = {c: run_cli(c, "--db", str(path), "--format", "json").returncode
             for c in COMMANDS}
    assert set(codes.values()) == {2}, codes


def test_bad_value_is_refused_by_the_commands_that_read_it(tmp_path: Path) -> None:
    """A value is judged when its table is read (README, Performance): ``info`` and ``check``
    read every switch port and refuse a tag_request above 4095; ``nat`` and ``gateways``
    never read that row and answer from the tables they read."""
    path = big_port_table(tmp_path, {UUID.format(10)[:-5] + "99999": {"name": "bad",
                                                                      "tag_request": 99999}})
    codes = {c: run_cli(c, "--db", str(path), "--format", "json").returncode
             for c in COMMANDS}
    assert codes == {"nat": 0, "gateways": 0, "check": 2, "failover-sim": 0, "info": 2}, codes


# -- messages -----------------------------------------------------------------------------
def test_control_characters_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "evil\n\x1b[31mname.db"
    path.write_bytes(b"garbage")
    line = one_line(run_cli("nat", "--db", str(path)), "")
    assert "\\x0a\\x1b[31m" in line and "\x1b" not in line


def test_folder_with_a_corrupt_sb_names_it_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "sos" / "var" / "lib" / "ovn"
    folder.mkdir(parents=True)
    (folder / "ovnnb_db.db").write_bytes(NB.read_bytes())
    sb = (FIXTURES / "kubeovn-5050" / "sb.db").read_bytes()
    (folder / "ovnsb_db.db").write_bytes(sb[:len(sb) - 10])
    proc = run_cli("nat", "--db", str(tmp_path / "sos"))
    line = one_line(proc, folder / "ovnsb_db.db")
    assert "truncated" in line


def test_bad_ovn_version_is_a_usage_error() -> None:
    proc = run_cli("nat", "--db", str(NB), "--ovn-version", "router")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "--ovn-version" in proc.stderr


def test_internal_error_is_one_line_and_exit_70(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from ovninspect.cli import app
    from ovninspect.commands import common

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("boom")
    monkeypatch.setattr(common, "Topology", broken)
    result = CliRunner().invoke(app, ["nat", "--db", str(NB)])
    assert result.exit_code == 70
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0] == (f"ovninspect: internal error while reading {NB}: KeyError: 'boom'; "
                        "please report it")


@pytest.mark.parametrize("fmt", ["json", "table", "csv"])
def test_closed_stdout_ends_quietly(fmt: str) -> None:
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([sys.executable, "-m", "ovninspect", "nat", "--db", str(NB),
                               "--format", fmt], stdout=write, stderr=subprocess.PIPE,
                              timeout=60)
    finally:
        os.close(write)
    assert (proc.returncode, proc.stderr) == (0, b"")


# -- snapshot -o ------------------------------------------------------------------------
def test_snapshot_never_writes_over_an_input(tmp_path: Path) -> None:
    src = tmp_path / "in.db"
    src.write_bytes(NB.read_bytes())
    src.chmod(0o644)
    os.link(src, tmp_path / "hard.db")
    before = src.read_bytes()
    for target in (src, tmp_path / "hard.db", tmp_path / "." / "in.db"):
        line = one_line(run_cli("snapshot", "--db", str(src), "-o", str(target)), target)
        assert "refusing to write over it" in line
    assert src.read_bytes() == before and stat.S_IMODE(src.stat().st_mode) == 0o644


def test_snapshot_writes_with_the_umask_mode(tmp_path: Path) -> None:
    out = tmp_path / "out.db"
    proc = subprocess.run(f"umask 027; {sys.executable} -m ovninspect snapshot --db {NB} "
                          f"-o {out}", shell=True, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.db"]  # no temporary left


# -- bounded reads ------------------------------------------------------------------------
def test_gzip_bomb_is_refused_fast(tmp_path: Path) -> None:
    """4 GB of one record in under 4 MB of gzip: refused within seconds, small memory."""
    size = 4 * 10**9
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(b"OVSDB JSON %d %s\n{" % (size, b"0" * 40))]
    block = packer.compress(b" " * (1 << 24))
    parts += [block] * (size // (1 << 24))  # identical input, identical compressed bytes
    parts.append(packer.flush())
    path = tmp_path / "bomb.db.gz"
    path.write_bytes(b"".join(parts))
    start = time.monotonic()
    line = one_line(run_cli("info", "--db", str(path)), path)
    assert time.monotonic() - start < 5
    assert "gzip" in line


def test_record_longer_than_the_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "long.db"
    path.write_bytes(compose_record(json.loads(NB_SCHEMA.read_text()))
                     + b"OVSDB JSON 99999999999999999999 " + b"0" * 40 + b"\n{}\n")
    line = one_line(run_cli("info", "--db", str(path)), path)
    assert "runs past the end of the file" in line


def test_random_bytes_after_a_brace_are_not_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    with open(path, "wb") as fh:
        fh.write(b"{" + os.urandom(1 << 20) * 64)  # 64 MiB
    start = time.monotonic()
    line = one_line(run_cli("info", "--db", str(path)), path)
    assert time.monotonic() - start < 3
    assert "UTF-8" in line


def test_gzip_of_a_valid_file_reads_the_same() -> None:
    a = run_cli("info", "--db", str(FIXTURES / "base" / "nb-compacted.db.gz"), "--format",
                "json")
    assert a.returncode == 0, a.stderr
    assert json.loads(a.stdout)["format"].startswith("gzip of ")
    assert gzip.decompress((FIXTURES / "base" / "nb-compacted.db.gz").read_bytes())


@pytest.mark.parametrize("special", [{"_date": None}, {"_date": "1"}, {"_date": 2.0**63},
                                     {"_is_diff": 1}, {"_is_diff": None}])
def test_transaction_specials_of_the_wrong_type(special: dict, tmp_path: Path) -> None:
    """ovsdb-server takes a ``_date`` that is not an integer (or an ``_is_diff`` that is not
    a boolean) for a table name, and refuses the record (found by the fuzz campaign)."""
    path = tmp_path / "bad.db"
    path.write_bytes(compose_record(json.loads(NB_SCHEMA.read_text()))
                     + compose_record({"Logical_Router": {UUID.format(1): {"name": "r"}},
                                       **special}))
    line = one_line(run_cli("nat", "--db", str(path)), path)
    assert "record 1 at byte offset" in line and next(iter(special)) in line


@pytest.mark.parametrize("depth, refused", [(1000, False), (1001, True), (1024, True),
                                            (1100, True)])
def test_nesting_deeper_than_lib_json_allows_is_refused(tmp_path: Path, depth: int,
                                                        refused: bool) -> None:
    """lib/json.c refuses more than 1,000 nested containers (ovsdb-tool: "input exceeds
    maximum nesting depth 1000"); orjson takes 1,024 and Python's parser what the recursion
    limit allows (fuzz seed 410094 was accepted in a process with a raised limit)."""
    import sys

    from ovninspect.sources.records import loads
    inner = "[" * (depth - 1) + "]" * (depth - 1)     # the record object is level 1
    path = nb_file(tmp_path / "deep.db", {})
    data = path.read_bytes()
    body = ('{"_date":1,"_comment":' + inner + '}\n').encode()
    import hashlib
    path.write_bytes(data + b"OVSDB JSON %d %s\n" % (len(body), hashlib.sha1(body).hexdigest()
                                                     .encode()) + body)
    proc = run_cli("info", "--db", str(path))
    assert proc.returncode == (2 if refused else 0), proc.stderr
    if refused:
        assert "nesting too deep" in proc.stderr
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(50_000)
    try:
        deep = ("[" * depth + "1e999" + "]" * depth).encode()   # orjson refuses: fallback
        with pytest.raises(ValueError, match="nesting too deep|out of the range"):
            loads(deep)
        comment = ('{"_comment":' + "[" * (depth - 1) + "]" * (depth - 1) + "}").encode()
        if refused:
            with pytest.raises(ValueError, match="nesting too deep"):
                loads(comment)
        else:
            assert loads(comment)
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize("record", [
    '{"_comment":"plain","data":{"_comment":DEEP}}',       # a string comment beside a deep one
    '{"_comment": DEEP}',                                 # a space: not the compact layout
    '{"x":"_comment","_comment":DEEP}',                   # the word as a value too
])
def test_a_deep_comment_is_found_whatever_else_the_record_holds(record: str) -> None:
    """records.loads skips walking a record whose every ``"_comment"`` is a key holding a
    string; any other record is walked, so a too-deep comment is still refused."""
    from ovninspect.sources.records import loads

    deep = "[" * 1000 + "]" * 1000
    with pytest.raises(ValueError, match="nesting too deep"):
        loads(record.replace("DEEP", deep).encode())
    assert loads(record.replace("DEEP", '"fine"').encode())
