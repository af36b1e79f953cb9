//! End-to-end tests live in `tests/`: the blocking client against the simulator.
