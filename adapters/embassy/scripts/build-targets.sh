#!/usr/bin/env bash
# Builds kaiko-embassy for every microcontroller target, with and without defmt.
# Needs: rustup target add thumbv6m-none-eabi thumbv7em-none-eabihf riscv32imc-unknown-none-elf
set -euo pipefail
cd "$(dirname "$0")/../../.."
for target in thumbv6m-none-eabi thumbv7em-none-eabihf riscv32imc-unknown-none-elf; do
    for features in "" "defmt" "embassy-net" "embassy-net,defmt" "embassy-net,log" "embassy-net,tls,defmt" "details,choices,trajectory,growth,beliefs,patterns,conversation,defmt"; do
        echo "== kaiko-embassy $target [${features:-no features}]"
        cargo build -p kaiko-embassy --release --target "$target" --no-default-features ${features:+--features "$features"}
    done
done
