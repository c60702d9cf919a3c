#!/usr/bin/env bash
# ovn-versions.sh -- real OVN releases besides the host's, each in a minimal Debian root.
#
#   bash scripts/ovn-versions.sh [setup] [RELEASE...]   build what is missing (idempotent), then
#                                                       print "RELEASE BIN_DIR SCHEMA_DIR" lines
#   bash scripts/ovn-versions.sh env RELEASE            shell lines that select one release:
#                                                       eval "$(bash scripts/ovn-versions.sh env 26.03)"
#                                                       ($OVN_VERSIONS_DIR/builds.txt lists the ready ones)
#   bash scripts/ovn-versions.sh unmount                unmount every root (keeps them)
#   bash scripts/ovn-versions.sh remove                 unmount, then delete the roots
#
# RELEASE is 25.03 (Debian trixie: ovn 25.03.0, OVS 3.5) or 26.03 (Debian sid: ovn 26.03.x,
# OVS 4.0); the default is both.  The host's own release (Debian 12: 23.03) needs nothing.
#
# Each root is made with debootstrap from the mirror of this machine's apt sources, gets
# ovn-central ovn-common openvswitch-common ovn-host openvswitch-switch (plus
# $OVN_VERSIONS_EXTRA_PACKAGES), and one
# wrapper per OVN/OVS binary in BIN_DIR that runs the root's binary through chroot in the
# caller's directory.  The host's /tmp is bind-mounted at /tmp inside each root, so lab
# directories, sockets and pidfiles under /tmp have the same path on both sides; a
# directory that is not visible in the root falls back to /.  Pids stay valid (chroot keeps
# the pid namespace and every wrapper execs).  Needs root (chroot, mount).
#
# Cache: $OVN_VERSIONS_DIR (default /var/cache/ovninspect/ovn-versions); about 450 MB per
# root, about 3 minutes the first time, under a second when ready.  The package scripts in
# a root never start services (policy-rc.d exits 101).  A root is deleted only after every
# mount under it is gone: never rm -rf a root while /tmp is bound into it (it would empty
# the host's /tmp).  Recipe and pitfalls: shared/docs/version-lab.md.
set -euo pipefail

DIR=${OVN_VERSIONS_DIR:-/var/cache/ovninspect/ovn-versions}
# ovn-host and openvswitch-switch: ovn-controller and ovs-vswitchd for the controller oracle
# (tests/controller_lab.py); policy-rc.d keeps their services from starting
BASE_PACKAGES="ovn-central ovn-common openvswitch-common ovn-host openvswitch-switch"
PACKAGES="$BASE_PACKAGES ${OVN_VERSIONS_EXTRA_PACKAGES:-}"
TOOLS="ovn-northd ovsdb-server ovsdb-tool ovsdb-client ovn-nbctl ovn-sbctl ovn-appctl
       ovs-appctl ovn-trace ovn-detrace ovn-controller ovs-vswitchd ovs-vsctl ovs-ofctl"
ALL_RELEASES="25.03 26.03"

die() { echo "ovn-versions.sh: $*" >&2; exit 2; }
say() { echo "ovn-versions.sh: $*" >&2; }

suite_of() {
    case $1 in
        25.03) echo trixie ;;
        26.03) echo sid ;;
        *) die "unknown release '$1' (known: $ALL_RELEASES)" ;;
    esac
}

mirror() {
    local m
    m=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null \
        | awk '$2 !~ /-/ && $1 !~ /security/ {print $1; exit}')
    echo "${m:-http://deb.debian.org/debian/}"
}

# every mount point at or below $1, deepest first
mounts_under() {
    awk -v r="$1" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/self/mounts | sort -r
}

unmount_root() {
    local r=$1 m
    for m in $(mounts_under "$r"); do
        umount "$m" 2>/dev/null || umount -l "$m"
    done
    [ -z "$(mounts_under "$r")" ] || die "$r still has mounts; refusing to go on"
}

mount_root() {
    local r=$1
    mountpoint -q "$r/proc" || mount -t proc proc "$r/proc"
    if [ -d /dev/pts ] && ! mountpoint -q "$r/dev/pts"; then
        mkdir -p "$r/dev/pts"
        mount --bind /dev/pts "$r/dev/pts" 2>/dev/null || true
    fi
    mountpoint -q "$r/tmp" || mount --bind /tmp "$r/tmp"
}

ensure_debootstrap() {
    command -v debootstrap >/dev/null 2>&1 && return
    say "installing debootstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        debootstrap >/dev/null
}

write_wrappers() {  # $1 root, $2 wrapper dir
    local r=$1 bin=$2 t p
    mkdir -p "$bin"
    for t in $TOOLS; do
        p=$(chroot "$r" sh -c "command -v $t" 2>/dev/null || true)
        if [ -z "$p" ]; then
            rm -f "$bin/$t"
            continue
        fi
        cat > "$bin/$t.new" <<EOF
#!/bin/sh
# $t of the Debian root $r (made by scripts/ovn-versions.sh)
d=\$PWD; [ -d "$r\$d" ] || d=/
exec chroot "$r" /usr/bin/env -C "\$d" $p "\$@"
EOF
        chmod +x "$bin/$t.new"
        mv -f "$bin/$t.new" "$bin/$t"
    done
}

setup_one() {  # $1 release
    local rel=$1 suite r bin stamp want
    suite=$(suite_of "$rel")
    r="$DIR/roots/$suite"
    bin="$DIR/bin/$rel"
    stamp="$r/.ovninspect-ready"
    want="packages: $(echo $PACKAGES | tr ' ' '\n' | sort -u | tr '\n' ' ')"
    if [ -f "$stamp" ] && grep -qxF "$want" "$stamp" && [ -x "$bin/ovn-northd" ]; then
        mount_root "$r"
        return
    fi
    if [ -d "$r" ] && [ ! -x "$r/usr/bin/apt-get" ]; then
        say "removing the incomplete root $r"
        unmount_root "$r"
        rm -rf --one-file-system "$r"
    fi
    if [ ! -d "$r" ]; then
        ensure_debootstrap
        say "debootstrap $suite into $r (about a minute)"
        mkdir -p "$DIR/roots"
        if [ -d "$r.partial" ]; then
            unmount_root "$r.partial"
            rm -rf --one-file-system "$r.partial"
        fi
        if ! debootstrap --variant=minbase "$suite" "$r.partial" "$(mirror)" \
                > "$DIR/debootstrap-$suite.log" 2>&1; then
            unmount_root "$r.partial"
            die "debootstrap $suite failed; see $DIR/debootstrap-$suite.log"
        fi
        unmount_root "$r.partial"
        mv "$r.partial" "$r"
    fi
    printf '#!/bin/sh\nexit 101\n' > "$r/usr/sbin/policy-rc.d"
    chmod +x "$r/usr/sbin/policy-rc.d"
    mount_root "$r"
    say "installing $PACKAGES in $suite"
    # the mirror may serve a frozen snapshot whose Release file is past its Valid-Until
    chroot "$r" sh -c "apt-get -o Acquire::Check-Valid-Until=false update -qq && DEBIAN_FRONTEND=noninteractive apt-get install \
        -y -qq --no-install-recommends $PACKAGES && apt-get clean" \
        > "$DIR/apt-$suite.log" 2>&1 || die "apt-get in $suite failed; see $DIR/apt-$suite.log"
    write_wrappers "$r" "$bin"
    {
        echo "$want"
        "$bin/ovn-northd" --version | head -1
    } > "$stamp"
}

describe() {  # $1 release -> "RELEASE BIN SCHEMA_DIR NORTHD_VERSION"
    local rel=$1 suite v
    suite=$(suite_of "$rel")
    v=$("$DIR/bin/$rel/ovn-northd" --version | awk 'NR==1 {print $NF}')
    echo "$rel $DIR/bin/$rel $DIR/roots/$suite/usr/share/ovn $v"
}

main() {
    local cmd=${1:-setup} rel
    case $cmd in
        setup|env|unmount|remove) shift || true ;;
        *) cmd=setup ;;
    esac
    [ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount); try: sudo bash $0 $*"
    mkdir -p "$DIR"
    exec 9>"$DIR/.lock"
    flock 9
    case $cmd in
        setup)
            for rel in ${@:-$ALL_RELEASES}; do setup_one "$rel"; done
            for rel in ${@:-$ALL_RELEASES}; do describe "$rel"; done
            # the manifest tests/ovnlab.py reads: every release ready now
            for rel in $ALL_RELEASES; do
                if [ -f "$DIR/roots/$(suite_of "$rel")/.ovninspect-ready" ]; then
                    describe "$rel"
                fi
            done > "$DIR/builds.txt.new"
            mv -f "$DIR/builds.txt.new" "$DIR/builds.txt"
            ;;
        env)
            [ $# = 1 ] || die "usage: $0 env RELEASE"
            setup_one "$1"
            read -r rel bin schema _ <<<"$(describe "$1")"
            echo "export PATH='$bin':\"\$PATH\" OVNLAB_SCHEMA_DIR='$schema'"
            ;;
        unmount|remove)
            for rel in $ALL_RELEASES; do
                local r
                r="$DIR/roots/$(suite_of "$rel")"
                [ -d "$r" ] || continue
                unmount_root "$r"
                if [ "$cmd" = remove ]; then
                    rm -rf --one-file-system "$r" "$DIR/bin/$rel"
                fi
            done
            ;;
    esac
}

main "$@"
