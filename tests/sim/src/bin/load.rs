//! `kaiko-sim-load`: keep-alive analysis requests against a simulator. See `--help`.

fn main() {
    std::process::exit(kaiko_sim::load::run_load_cli(std::env::args().skip(1)));
}
