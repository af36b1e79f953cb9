#!/usr/bin/env bash
# Builds the firmware (release) and prints its flash and RAM use.
# flash = text + data, RAM = data + bss (static buffers, the executor's task futures; the
# stack comes on top, from what RAM is left).
# Needs: rustup target add thumbv7em-none-eabihf; apt-get install binutils-arm-none-eabi
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release
elf="${CARGO_TARGET_DIR:-target}/thumbv7em-none-eabihf/release/kaiko-firmware-stm32f767"
arm-none-eabi-size "$elf"
arm-none-eabi-size "$elf" | awk 'NR == 2 { printf "flash %d B, static RAM %d B\n", $1 + $2, $2 + $3 }'
