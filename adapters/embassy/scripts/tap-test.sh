#!/usr/bin/env bash
# Real embassy-net in the loop: kaiko-sim and the embassy-net client (embassy-net-tuntap) both
# run inside a private network namespace with one TAP device; nothing leaves the namespace.
# Needs root (CI has it). Without root it skips, unless KAIKO_REQUIRE_TAP=1 makes that a failure.
set -euo pipefail
cd "$(dirname "$0")/../../.."
NS=kaiko-embassy-$$
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || [ ! -e /dev/net/tun ]; then
    why="needs root, iproute2 and /dev/net/tun"
    if [ "${KAIKO_REQUIRE_TAP:-0}" = 1 ]; then
        echo "tap-test: FAILED: $why (KAIKO_REQUIRE_TAP=1)"; exit 1
    fi
    echo "tap-test: SKIPPED: $why (set KAIKO_REQUIRE_TAP=1 to make this a failure)"; exit 0
fi
cargo build -p kaiko-example-embassy-std
bin="${CARGO_TARGET_DIR:-target}/debug/kaiko-example-embassy-std"
cleanup() { ip netns del "$NS" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip tuntap add name tap0 mode tap
ip netns exec "$NS" ip link set tap0 up
ip netns exec "$NS" ip addr add 192.168.69.100/24 dev tap0
timeout 120 ip netns exec "$NS" "$bin" --tap tap0 --self-test
