//! `kaiko-sim`: serves the Kaiko V2 API locally with fault injection. See `--help`.

fn main() {
    std::process::exit(kaiko_sim::run_cli(std::env::args().skip(1)));
}
