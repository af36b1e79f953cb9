#!/usr/bin/env bash
# Flash cost of kaiko-core against httparse + serde-json-core + core::fmt on a Cortex-M4
# (thumbv7em-none-eabihf, opt-level "z", fat LTO: the firmware package's release profile).
# Builds size-probe (kaiko), peer-probe (the peers) and empty-probe (the runtime alone) and
# prints .text + .rodata of each, and above the empty image.
# Needs: rustup target thumbv7em-none-eabihf, arm-none-eabi-size (binutils-arm-none-eabi).
# `size-report.sh fast,details` measures the probes with those kaiko-core features on: the
# difference to the default run is what the features cost.
set -euo pipefail
features=()
if [ $# -gt 0 ] && [ -n "$1" ]; then
    features=(--features "$(printf '%s' "$1" | sed 's/\([^,]*\)/kaiko-core\/\1/g')")
fi

root=$(cd "$(dirname "$0")/../.." && pwd)
fw=$root/examples/firmware-qemu
(cd "$fw" && cargo build --release --bins --quiet "${features[@]}")
target_dir=${CARGO_TARGET_DIR:-$fw/target}
case $target_dir in /*) ;; *) target_dir=$fw/$target_dir ;; esac
out=$target_dir/thumbv7em-none-eabihf/release

# section size of ELF $1
section() { arm-none-eabi-size -A "$1" | awk -v s="$2" '$1 == s { print $2; f = 1 } END { if (!f) print 0 }'; }

base=$(( $(section "$out/empty-probe" .text) + $(section "$out/empty-probe" .rodata) ))
printf '| probe | .text | .rodata | .text+.rodata | above empty-probe | .bss |\n'
printf '|---|---:|---:|---:|---:|---:|\n'
for probe in empty-probe size-probe peer-probe; do
    elf=$out/$probe
    text=$(section "$elf" .text)
    rodata=$(section "$elf" .rodata)
    bss=$(section "$elf" .bss)
    total=$(( text + rodata ))
    printf '| %s | %d | %d | %d | %d | %d |\n' "$probe" "$text" "$rodata" "$total" $(( total - base )) "$bss"
done
kaiko=$(( $(section "$out/size-probe" .text) + $(section "$out/size-probe" .rodata) - base ))
peer=$(( $(section "$out/peer-probe" .text) + $(section "$out/peer-probe" .rodata) - base ))
echo
echo "kaiko (size-probe) $kaiko B, peers (peer-probe) $peer B above the runtime;" \
    "peer/kaiko = $(awk -v p="$peer" -v k="$kaiko" 'BEGIN { printf "%.2f", p / k }')."
echo "size-probe also links chunked bodies, SSE, retries, timeouts and Date parsing, which"
echo "peer-probe does not; peer-probe's .bss holds a 2 KB receive buffer (whole response in RAM)."
