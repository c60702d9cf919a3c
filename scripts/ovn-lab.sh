# shellcheck shell=bash
# ovn-lab.sh -- a private OVN lab in a directory: NB/SB ovsdb-server and ovn-northd.
#
# Source it, then:
#
#   LAB=$(mktemp -d)
#   trap 'lab_stop "$LAB"; rm -rf "$LAB"' EXIT
#   lab_start_nb "$LAB" [SNAPSHOT.db]   # serves a *copy* of SNAPSHOT (or a new empty NB)
#   lab_start_sb "$LAB" [SNAPSHOT.db]
#   lab_start_northd "$LAB"
#   ovn-nbctl --db="$(lab_nb "$LAB")" --timeout=30 --wait=sb sync
#   lab_compact "$LAB" nb               # ovs-appctl ... ovsdb-server/compact
#   lab_stop "$LAB"                     # northd, sb, nb -- by the pids in their pidfiles
#
# Every daemon runs with --detach --no-chdir and keeps its socket, pidfile, unixctl
# socket and log in the lab directory (nb.sock nb.pid nb.ctl nb.log, same for sb and
# northd).  Detached daemons are re-parented to PID 1, so they are stopped through their
# pidfiles only; nothing here kills by name.  A snapshot given as argument is copied
# into the lab first (lab-notes pitfall 1: ovsdb-server truncates a file with a bad
# record on its next write).  Python twin: tests/ovnlab.py.

LAB_NB_SCHEMA=${LAB_NB_SCHEMA:-/usr/share/ovn/ovn-nb.ovsschema}
LAB_SB_SCHEMA=${LAB_SB_SCHEMA:-/usr/share/ovn/ovn-sb.ovsschema}
LAB_TIMEOUT=${LAB_TIMEOUT:-30}

lab_nb() { echo "unix:$1/nb.sock"; }
lab_sb() { echo "unix:$1/sb.sock"; }

# lab_start_db DIR NAME SCHEMA [SNAPSHOT]
# Serve DIR/NAME.db.  With SNAPSHOT, DIR/NAME.db is (over)written with a copy of it;
# without, an existing DIR/NAME.db is served again (a restart) or a new one is created.
lab_start_db() {
    local dir=$1 name=$2 schema=$3 src=${4:-}
    local db="$dir/$name.db"
    if [[ -n $src ]]; then
        cp -f -- "$src" "$db"
        chmod u+w "$db"
    elif [[ ! -e $db ]]; then
        ovsdb-tool create "$db" "$schema"
    fi
    rm -f "$dir/.$name.db.~lock~"
    ovsdb-server "$db" \
        --remote="punix:$dir/$name.sock" \
        --pidfile="$dir/$name.pid" \
        --unixctl="$dir/$name.ctl" \
        --log-file="$dir/$name.log" \
        --detach --no-chdir
}

lab_start_nb() { lab_start_db "$1" nb "$LAB_NB_SCHEMA" "${2:-}"; }
lab_start_sb() { lab_start_db "$1" sb "$LAB_SB_SCHEMA" "${2:-}"; }

# lab_start_nb_clustered DIR -- a new one-server raft NB (raft address unix:DIR/nb.raft).
lab_start_nb_clustered() {
    local dir=$1
    ovsdb-tool create-cluster "$dir/nb.db" "$LAB_NB_SCHEMA" "unix:$dir/nb.raft" 2>/dev/null
    lab_start_db "$dir" nb "$LAB_NB_SCHEMA"
}

lab_start_northd() {
    local dir=$1
    ovn-northd --ovnnb-db="unix:$dir/nb.sock" --ovnsb-db="unix:$dir/sb.sock" \
        --pidfile="$dir/northd.pid" --unixctl="$dir/northd.ctl" \
        --log-file="$dir/northd.log" --detach --no-chdir
}

# lab_sync DIR -- wait until northd has caught up with NB (bounded by LAB_TIMEOUT).
lab_sync() {
    ovn-nbctl --db="unix:$1/nb.sock" --timeout="$LAB_TIMEOUT" --wait=sb sync
}

# lab_compact DIR nb|sb -- online compaction by the running server.
lab_compact() {
    ovs-appctl --timeout="$LAB_TIMEOUT" -t "$1/$2.ctl" ovsdb-server/compact >/dev/null
}

# lab_alive PID -- true while PID runs.  A zombie counts as gone: detached daemons are
# re-parented to PID 1, which may take a while to reap them.
lab_alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# lab_stop_one DIR NAME -- SIGTERM the pid in DIR/NAME.pid, wait for it (5 s), then SIGKILL.
lab_stop_one() {
    local pidfile="$1/$2.pid" pid i
    [[ -s $pidfile ]] || return 0
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    kill -TERM "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
    for ((i = 0; i < 500; i++)); do
        lab_alive "$pid" || break
        sleep 0.01
    done
    if lab_alive "$pid"; then
        kill -KILL "$pid" 2>/dev/null
        sleep 0.1
    fi
    rm -f "$pidfile"
    return 0
}

# lab_stop DIR -- stop northd, then SB, then NB (whichever are running).
lab_stop() {
    local dir=$1 name
    [[ -d $dir ]] || return 0
    for name in northd sb nb; do
        lab_stop_one "$dir" "$name"
    done
}

# lab_save DIR NAME DEST -- copy DIR/NAME.db to DEST (stop the server first).
lab_save() {
    cp -f -- "$1/$2.db" "$3"
    chmod 0644 "$3"
}
