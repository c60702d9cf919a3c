#!/usr/bin/env bash
# make_fixtures.sh -- regenerate everything under fixtures/ (except recipes/ and README.md)
# from scratch, with real ovsdb-server / ovn-nbctl / ovn-northd in private temp dirs.
#
#   bash scripts/make_fixtures.sh          # about 15 s on 2 cores
#
# Needs ovn-central, ovn-common, openvswitch-common (OVN 23.03 / OVS 3.1 on Debian 12).
# The scenarios themselves are the readable recipes in fixtures/recipes/*.sh; this script
# only runs them against fresh servers and saves the databases in their various formats.
# Outputs are built in a staging dir, verified (ovsdb-tool show-log, db-is-clustered /
# db-is-standalone, served by ovsdb-server, JSON parses, northd does not crash on any
# scenario NB) and only then replace the old ones.  UUIDs and dates differ between runs;
# the content (names, columns, values) does not.  See fixtures/README.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FX=$ROOT/fixtures
RECIPES=$FX/recipes
# shellcheck source=scripts/ovn-lab.sh
source "$ROOT/scripts/ovn-lab.sh"

for tool in ovsdb-server ovsdb-tool ovsdb-client ovn-nbctl ovn-sbctl ovn-northd ovs-appctl gzip python3; do
    command -v "$tool" >/dev/null || { echo "make_fixtures: $tool not found" >&2; exit 1; }
done

LABS=()
cleanup() {
    local d
    for d in "${LABS[@]}"; do
        lab_stop "$d"
        rm -rf -- "$d"
    done
}
trap cleanup EXIT

# new_lab: make a temp dir, remember it for the EXIT trap, put its path in $LAB.
new_lab() {
    LAB=$(mktemp -d "${TMPDIR:-/tmp}/ovnfx.XXXXXX")
    LABS+=("$LAB")
}

log() { printf '[make_fixtures %5.1fs] %s\n' "$SECONDS" "$*"; }
die() { echo "make_fixtures: $*" >&2; exit 1; }

new_lab; OUT=$LAB/out; mkdir -p "$OUT"
NB_DB=OVN_Northbound
SB_DB=OVN_Southbound

nbctl_in() { local lab=$1; shift; ovn-nbctl --db="$(lab_nb "$lab")" --timeout="$LAB_TIMEOUT" "$@"; }
sbctl_in() { local lab=$1; shift; ovn-sbctl --db="$(lab_sb "$lab")" --timeout="$LAB_TIMEOUT" "$@"; }
dump_json() { ovsdb-client --timeout="$LAB_TIMEOUT" dump -f json "$1" "$2"; }

# northd_ok LAB: northd still running and logged no crash.
northd_ok() {
    local lab=$1
    [[ -s $lab/northd.pid ]] && kill -0 "$(<"$lab/northd.pid")" 2>/dev/null \
        || die "ovn-northd is gone ($lab/northd.log)"
    if grep -E '\|EMER\||assertion|Aborted' "$lab/northd.log"; then
        die "ovn-northd crashed"
    fi
}

# run_scenario NAME WITH_SB: NB + SB + northd, recipe, sync; leaves NB/SB running, northd stopped.
run_scenario() {
    local name=$1 with_sb=$2
    new_lab; SLAB=$LAB
    lab_start_nb "$SLAB" 2>/dev/null
    lab_start_sb "$SLAB" 2>/dev/null
    lab_start_northd "$SLAB" 2>/dev/null
    if [[ $with_sb == yes ]]; then
        bash "$RECIPES/$name.sh" "$(lab_nb "$SLAB")" "$(lab_sb "$SLAB")"
    else
        bash "$RECIPES/$name.sh" "$(lab_nb "$SLAB")"
    fi
    lab_sync "$SLAB"
    northd_ok "$SLAB"
    cp "$SLAB/northd.log" "$SLAB/northd.log.keep"
    lab_stop_one "$SLAB" northd
}

# ---------------------------------------------------------------------------------------
# base: standalone formats
# ---------------------------------------------------------------------------------------
log "base: standalone log, dumps, backup, SB"
B=$OUT/base; mkdir -p "$B"
run_scenario base yes
L1=$SLAB
dump_json "$(lab_nb "$L1")" $NB_DB >"$B/nb-dump.json"
nbctl_in "$L1" --format=json list NAT >"$B/nbctl-NAT.json"
ovsdb-client --timeout="$LAB_TIMEOUT" backup "$(lab_nb "$L1")" $NB_DB >"$B/nb-backup.db"
sbctl_in "$L1" show >"$L1/sbctl-show.txt"
nbctl_in "$L1" show >"$L1/nbctl-show.txt"
lab_compact "$L1" sb
lab_stop_one "$L1" sb
lab_save "$L1" sb "$B/sb.db"
lab_stop_one "$L1" nb
lab_save "$L1" nb "$B/nb-log.db"

log "base: compacted, compacted + diffs"
new_lab; L2=$LAB
lab_start_nb "$L2" "$B/nb-log.db" 2>/dev/null
lab_compact "$L2" nb
lab_stop_one "$L2" nb
lab_save "$L2" nb "$B/nb-compacted.db"
lab_start_nb "$L2" "$B/nb-compacted.db" 2>/dev/null
bash "$RECIPES/base-after-compact.sh" "$(lab_nb "$L2")"
dump_json "$(lab_nb "$L2")" $NB_DB >"$B/nb-compacted-plus-diffs.dump.json"
lab_stop_one "$L2" nb
lab_save "$L2" nb "$B/nb-compacted-plus-diffs.db"
gzip -9 -n -c "$B/nb-compacted.db" >"$B/nb-compacted.db.gz"

log "base: clustered"
new_lab; L3=$LAB
lab_start_nb_clustered "$L3" 2>/dev/null
bash "$RECIPES/base.sh" "$(lab_nb "$L3")"
dump_json "$(lab_nb "$L3")" $NB_DB >"$B/nb-clustered.dump.json"
lab_stop_one "$L3" nb
lab_save "$L3" nb "$B/nb-clustered.db"
lab_start_nb "$L3" 2>/dev/null                 # the lab's own copy, raft address unchanged
lab_compact "$L3" nb
lab_stop_one "$L3" nb
lab_save "$L3" nb "$B/nb-clustered-compacted.db"
cp "$B/nb-clustered.db" "$L3/in.db"
ovsdb-tool cluster-to-standalone "$L3/from-cluster.db" "$L3/in.db"
lab_save "$L3" from-cluster "$B/nb-from-cluster.db"

# ---------------------------------------------------------------------------------------
# base: a sosreport-like and a must-gather-like tree
# ---------------------------------------------------------------------------------------
log "base: sosreport and must-gather trees"
SOS=$OUT/sosreport-base
mkdir -p "$SOS/var/lib/ovn" "$SOS/sos_commands/ovn_central" "$SOS/var/log/ovn"
cp "$B/nb-log.db" "$SOS/var/lib/ovn/ovnnb_db.db"
cp "$B/sb.db" "$SOS/var/lib/ovn/ovnsb_db.db"
cp "$L1/nbctl-show.txt" "$SOS/sos_commands/ovn_central/ovn-nbctl_show"
cp "$L1/sbctl-show.txt" "$SOS/sos_commands/ovn_central/ovn-sbctl_show"
cat >"$SOS/sos_commands/ovn_central/ovs-appctl_-t_.var.run.ovn.ovnnb_db.ctl_cluster.status_OVN_Northbound" <<'EOF'
ovs-appctl: cannot apply this operation to a standalone database (decoy: not a database file)
EOF
cat >"$SOS/var/log/ovn/ovsdb-server-nb.log" <<'EOF'
2026-01-01T00:00:00.000Z|00001|vlog|INFO|opened log file /var/log/ovn/ovsdb-server-nb.log
2026-01-01T00:00:00.010Z|00002|ovsdb_server|INFO|ovsdb-server (Open vSwitch) 3.1.0
EOF
printf 'sosreport-like tree made by scripts/make_fixtures.sh (not a real sosreport)\n' >"$SOS/version.txt"
printf 'ovn-central-0\n' >"$SOS/hostname"

MG=$OUT/must-gather-base/must-gather.local.5550123/quay-io-openshift-release-dev-ocp-v4-0-art-dev-sha256-0000
mkdir -p "$MG/network_logs"
gzip -9 -n -c "$B/nb-log.db" >"$MG/network_logs/ovnkube-node-abcde_nbdb.gz"
gzip -9 -n -c "$B/sb.db" >"$MG/network_logs/ovnkube-node-abcde_sbdb.gz"
printf 'decoy: not a database\n' | gzip -9 -n -c >"$MG/network_logs/ovnkube-node-abcde_ovn-controller.log.gz"
printf '2026-01-01 00:00:00 +0000 UTC\n' >"$MG/timestamp"
printf 'must-gather-like tree made by scripts/make_fixtures.sh\n' >"$MG/../version"

# ---------------------------------------------------------------------------------------
# the other scenarios: compacted standalone nb.db + nb-dump.json (+ SB where there is one)
# ---------------------------------------------------------------------------------------
for spec in edge:yes kubeovn-5050:yes neutron:no ovnk:no; do
    name=${spec%%:*} with_sb=${spec#*:}
    log "$name"
    D=$OUT/$name; mkdir -p "$D"
    run_scenario "$name" "$with_sb"
    cp "$SLAB/northd.log.keep" "$SLAB/northd-$name.log"
    lab_compact "$SLAB" nb
    dump_json "$(lab_nb "$SLAB")" $NB_DB >"$D/nb-dump.json"
    nbctl_in "$SLAB" --format=json list NAT >"$D/nbctl-NAT.json"
    lab_stop_one "$SLAB" nb
    lab_save "$SLAB" nb "$D/nb.db"
    lab_compact "$SLAB" sb
    lab_stop_one "$SLAB" sb
    case $name in
        kubeovn-5050) lab_save "$SLAB" sb "$D/sb.db" ;;
        edge) gzip -9 -n -c "$SLAB/sb.db" >"$D/sb.db.gz" ;;   # big (lflows): kept gzipped
    esac
    # northd's warnings about this scenario, for the README / the oracle tests
    grep -E '\|(WARN|ERR)\|' "$SLAB/northd-$name.log" | sed -E 's/^[^|]*\|[0-9]+\|//' \
        >"$D/northd-warnings.txt" || true
done

# ---------------------------------------------------------------------------------------
# verification
# ---------------------------------------------------------------------------------------
log "verify"
find "$OUT" -name '*.~lock~' -delete
new_lab; V=$LAB
n=0
verify_db() {   # verify_db FILE [gz]
    local f=$1 copy=$V/in.db kind name
    n=$((n + 1))
    if [[ ${2:-} == gz ]]; then gzip -dc "$f" >"$copy"; else cp "$f" "$copy"; fi
    ovsdb-tool show-log "$copy" >/dev/null || die "show-log failed: $f"
    if ovsdb-tool db-is-clustered "$copy"; then
        kind=clustered
        name=$(ovsdb-tool db-name "$copy")
    else
        ovsdb-tool db-is-standalone "$copy" || die "neither standalone nor clustered: $f"
        kind=standalone
        name=$(ovsdb-tool db-name "$copy")
        ovsdb-tool db-cksum "$copy" >/dev/null
    fi
    rm -f "$V/v.log"
    lab_start_db "$V" v /dev/null "$copy" 2>/dev/null
    dump_json "unix:$V/v.sock" "$name" >"$V/v.dump" || die "cannot dump $f"
    lab_stop_one "$V" v
    if [[ -n ${3:-} ]]; then   # same rows and values as the dump saved when it was made
        python3 - "$V/v.dump" "$3" <<'EOF' || die "$f does not match ${3#"$OUT"/}"
import json, sys
def rows(path):
    out = {}
    for line in open(path):
        if line.strip():
            t = json.loads(line)
            h = t["headings"]
            out[t["caption"]] = sorted(
                json.dumps({k: v for k, v in zip(h, r) if k != "_version"}, sort_keys=True)
                for r in t["data"])
    return out
sys.exit(rows(sys.argv[1]) != rows(sys.argv[2]))
EOF
    fi
    # a clustered copy cannot bind its recorded raft address; anything else is an error
    if grep '|ERR|' "$V/v.log" | grep -v 'nb.raft: binding failed'; then
        die "ovsdb-server logged errors serving $f"
    fi
    printf '  ok  %-11s %-15s %s%s\n' "$kind" "$name" "${f#"$OUT"/}" "${3:+ (= ${3#"$OUT"/})}"
}
# expected_dump REL: the dump.json a database file must match exactly ("" if none)
expected_dump() {
    case $1 in
        base/nb-log.db | base/nb-compacted.db* | base/nb-backup.db | sosreport-base/*/ovnnb_db.db \
            | must-gather-base/*_nbdb.gz) echo "$OUT/base/nb-dump.json" ;;
        base/nb-clustered*.db | base/nb-from-cluster.db) echo "$OUT/base/nb-clustered.dump.json" ;;
        base/nb-compacted-plus-diffs.db) echo "$OUT/base/nb-compacted-plus-diffs.dump.json" ;;
        */nb.db) echo "$OUT/${1%/nb.db}/nb-dump.json" ;;
    esac
}
while IFS= read -r f; do
    case $f in
        *.db) verify_db "$f" "" "$(expected_dump "${f#"$OUT"/}")" ;;
        *.db.gz | *_nbdb.gz | *_sbdb.gz) verify_db "$f" gz "$(expected_dump "${f#"$OUT"/}")" ;;
    esac
done < <(find "$OUT" -type f \( -name '*.db' -o -name '*.gz' \) ! -name '*.log.gz' | sort)
while IFS= read -r f; do
    python3 - "$f" <<'EOF' || die "bad JSON: $f"
import json, sys
text = open(sys.argv[1]).read()
if sys.argv[1].endswith("dump.json"):      # one {"caption",...} object per line
    objs = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert objs and all("caption" in o and "data" in o for o in objs)
else:                                      # ovn-nbctl --format=json
    o = json.loads(text)
    assert o["headings"][0] == "_uuid" and o["data"]
EOF
done < <(find "$OUT" -type f -name '*.json' | sort)
log "verified $n database files"

# every scenario NB must survive a fresh northd (lab-notes pitfall 3)
for f in "$OUT"/base/nb-log.db "$OUT"/base/nb-compacted-plus-diffs.db "$OUT"/*/nb.db; do
    new_lab
    lab_start_nb "$LAB" "$f" 2>/dev/null
    lab_start_sb "$LAB" 2>/dev/null
    lab_start_northd "$LAB" 2>/dev/null
    lab_sync "$LAB" || die "northd did not sync on $f"
    northd_ok "$LAB"
    lab_stop "$LAB"
    printf '  ok  northd synced %s\n' "${f#"$OUT"/}"
done

# ---------------------------------------------------------------------------------------
# replace the old outputs
# ---------------------------------------------------------------------------------------
find "$FX" -mindepth 1 -maxdepth 1 ! -name recipes ! -name README.md -exec rm -rf -- {} +
chmod -R u+rwX,go+rX "$OUT"
find "$OUT" -type f -exec chmod 0644 {} +
cp -R "$OUT"/. "$FX"/
find "$FX" -name '*.~lock~' -delete

missing=0
while IFS= read -r f; do
    rel=${f#"$FX"/}
    if [[ -f $FX/README.md ]] && ! grep -qF -- "$(basename "$rel")" "$FX/README.md"; then
        echo "make_fixtures: WARNING: $rel is not described in fixtures/README.md" >&2
        missing=1
    fi
done < <(find "$FX" -type f ! -path "$RECIPES/*" ! -name README.md | sort)
size=$(du -sk "$FX" | cut -f1)
log "done: $(find "$FX" -type f ! -path "$RECIPES/*" | wc -l) files, ${size} KiB in fixtures/"
[[ $missing == 0 ]] || echo "make_fixtures: update fixtures/README.md" >&2
