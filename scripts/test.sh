#!/usr/bin/env bash
# Run ovninspect's test suite on this machine, installing what is missing first:
#   - Debian's ovn-central, ovn-common, openvswitch-common (real ovsdb-server, ovn-nbctl,
#     ovn-northd: the tests use them, never mocks);
#   - Debian's ovn-host and openvswitch-switch (real ovn-controller and ovs-vswitchd for the
#     controller oracle; their services are never started);
#   - as root, OVN 25.03 and 26.03 in Debian roots (scripts/ovn-versions.sh);
#   - a virtualenv in .venv with ovninspect and its test extras.
# Usage: bash scripts/test.sh [pytest args...]      (e.g. -k oracle, --runslow)
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

# true when any of the named tools is not on PATH
missing() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || return 0
    done
    return 1
}

apt_install() {
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
        --no-install-recommends "$@" >/dev/null
}

if missing ovsdb-server ovsdb-tool ovsdb-client ovn-nbctl ovn-sbctl ovn-northd; then
    echo "== installing Debian packages: ovn-central ovn-common openvswitch-common"
    apt_install ovn-central ovn-common openvswitch-common
fi

# ovn-controller and ovs-vswitchd for the controller oracle (tests/controller_lab.py): their
# postinst scripts would start system services, so a policy-rc.d that exits 101 forbids it
# during the install (an existing policy-rc.d is kept and restored); nothing system-wide is
# used afterwards.
if missing ovn-controller ovs-vswitchd ovs-vsctl ovs-ofctl; then
    echo "== installing Debian packages: ovn-host openvswitch-switch (services not started)"
    policy=/usr/sbin/policy-rc.d
    saved=""
    if [ -e "$policy" ]; then
        saved=$(mktemp)
        $SUDO cp -p "$policy" "$saved"
    fi
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
    rc=0
    apt_install ovn-host openvswitch-switch || rc=$?
    if [ -n "$saved" ]; then
        $SUDO mv -f "$saved" "$policy"
    else
        $SUDO rm -f "$policy"
    fi
    [ "$rc" = 0 ] || { echo "apt-get install ovn-host openvswitch-switch failed" >&2; exit "$rc"; }
fi

# Real ovn-northd 25.03 and 26.03 besides the host's 23.03, each in a Debian root
# (scripts/ovn-versions.sh: about 3 minutes the first time, cached in
# $OVN_VERSIONS_DIR).  The oracle tier runs on every build; OVNINSPECT_OVN_BUILDS=host
# runs the host's only (and skips building the roots).
if [ "${OVNINSPECT_OVN_BUILDS:-all}" != host ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "== OVN version roots (scripts/ovn-versions.sh)"
        bash scripts/ovn-versions.sh setup || bash scripts/ovn-versions.sh setup
        export OVNINSPECT_REQUIRE_BUILDS="${OVNINSPECT_REQUIRE_BUILDS:-23.03,25.03,26.03}"
    else
        echo "== not root: the oracle tier runs on the host's OVN only" \
             "(sudo bash scripts/ovn-versions.sh to add 25.03 and 26.03)"
    fi
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv"
    "$PY" -m venv .venv
fi
echo "== installing ovninspect and test dependencies into .venv"
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 \
    | grep -v -e '^WARNING: Location' -e 'file:///opt/pypi' || true

echo "== ruff"
.venv/bin/ruff check ovninspect tests scripts

echo "== pytest"
# the same hypothesis examples on every run, so a red run means a change broke something;
# HYPOTHESIS_PROFILE=explore (or scripts/fuzz.py) looks for new ones
export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"
exec .venv/bin/python -m pytest -n "${OVNINSPECT_TEST_JOBS:-2}" -q -p no:cacheprovider "$@"
