#!/usr/bin/env bash
# The clear-text key refusal against a real non-loopback address: kaiko-sim listens on
# 10.77.0.1 inside a private network namespace (nothing leaves it). Without --insecure-http the
# CLI must exit 2 before connecting (the simulator counts no request); with it, the call runs.
# Needs root (CI has it). Without root it skips, unless KAIKO_REQUIRE_NETNS=1 makes that a
# failure. Prints "N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/../../.."
NS=kaiko-cleartext-$$
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
    why="needs root and iproute2"
    if [ "${KAIKO_REQUIRE_NETNS:-0}" = 1 ]; then
        echo "cleartext-netns: FAILED: $why (KAIKO_REQUIRE_NETNS=1)"; exit 1
    fi
    echo "cleartext-netns: SKIPPED: $why"; exit 0
fi
cargo build -q -p kaiko-cli
bin="$(pwd)/${CARGO_TARGET_DIR:-target}/debug/kaiko"
cleanup() { ip netns pids "$NS" 2>/dev/null | xargs -r kill 2>/dev/null || true; ip netns del "$NS" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip addr add 10.77.0.1/32 dev lo
# One request per window: had the refused call sent its request, the opted-in one would meet
# a 429.
ip netns exec "$NS" "$bin" sim --addr 10.77.0.1:8787 --rate-limit 1 >/dev/null 2>&1 &
for _ in $(seq 50); do
    ip netns exec "$NS" bash -c 'exec 3<>/dev/tcp/10.77.0.1/8787' 2>/dev/null && break
    sleep 0.1
done
url=http://10.77.0.1:8787/v2
passed=0 failed=0
out=/tmp/cleartext-out.$$
check() { # name expected-exit command...
    local name=$1 want=$2 got=0; shift 2
    "$@" >"$out" 2>&1 || got=$?
    if [ "$got" = "$want" ]; then passed=$((passed + 1)); echo "test $name ... ok";
    else failed=$((failed + 1)); echo "test $name ... FAILED (exit $got, want $want)"; cat "$out"; fi
}
run() { KAIKO_API_KEY=kaiko_test_netns ip netns exec "$NS" "$bin" analyze --base-url "$url" --max-retries 0 "$@" "I feel fine"; }
check "clear-text key to 10.77.0.1 is refused before connecting (exit 2)" 2 run
grep -q -- "--insecure-http" "$out" && passed=$((passed + 1)) && echo "test the refusal names the opt-in ... ok" \
    || { failed=$((failed + 1)); echo "test the refusal names the opt-in ... FAILED"; cat "$out"; }
check "with --insecure-http the call is made, the first the simulator counts" 0 run --insecure-http
check "the next one meets the one-request limit, so the refused call sent nothing" 3 run --insecure-http
rm -f "$out"
echo "$passed passed, $failed failed"
test "$failed" = 0
