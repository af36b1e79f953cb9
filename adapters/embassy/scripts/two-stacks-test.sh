#!/usr/bin/env bash
# The client through two in-process embassy-net stacks (no root): once on the std time
# driver (as `cargo test --workspace` runs it), once on embassy-time's mock driver, which
# must be built on its own because Cargo unifies features across the workspace.
set -euo pipefail
cd "$(dirname "$0")/../../.."
cargo test -p kaiko-embassy-net-tests
cargo test -p kaiko-embassy-net-tests --no-default-features --features mock-time
