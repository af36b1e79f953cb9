//! The `kaiko-sim` command line, embeddable as a `sim` subcommand elsewhere.

use std::net::SocketAddr;
use std::time::Duration;

use crate::fault::parse_duration;
use crate::{Config, Sim, parse_fault};

const USAGE: &str = "\
usage: kaiko-sim [OPTIONS]

Serves the Kaiko V2 API on a local socket until killed.

options:
  --addr ADDR          listen address (default 127.0.0.1:8787)
  --port P             listen on 127.0.0.1:P (shorthand for --addr 127.0.0.1:P)
  --dialect D          docs (default): the documented shapes; backend: the shapes the
                       public backend source sends (flat errors, VineJS 422 details, 402,
                       no Retry-After, `_default` keys, `analyse_token`, no idempotency)
  --rate-limit N       requests per key per window (default 60)
  --rate-window DUR    rate-limit window, e.g. 60s (default 60s)
  --max-body BYTES     largest request body (default 1048576)
  --latency DUR        delay before each request is handled, e.g. 200ms
  --key KEY            accept only this key (repeatable; default: any non-empty key)
  --revoked KEY        answer this key with 403 key_revoked (repeatable)
  --paused KEY         answer this key's POSTs with 403 Access denied: API key is paused
                       (repeatable)
  --unfunded KEY       answer this key's POSTs with 402 Insufficient credits (repeatable)
  --fault SPEC         queue a fault (repeatable, in order): 429, 503:retry-after=2,
                       429:retry-after-date=5, html:502, flat:500, status-error:500,
                       empty:503, odd-chunks, drip:5ms, stall:3s, stall-after-head:3s,
                       reset-mid-head, reset-mid-body, reset-after-processing,
                       malformed-head, close, 100-continue
  --tls                serve HTTPS with a certificate chain made at start (ECDSA P-256)
                       for localhost and 127.0.0.1
  --ca-out PATH        with --tls: write the chain's CA certificate (PEM) here, for
                       `kaiko analyze --ca-file PATH`
  -h, --help           print this help
";

/// Parsed command line.
#[derive(Debug)]
struct Options {
    addr: SocketAddr,
    config: Config,
    tls: bool,
    ca_out: Option<String>,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut addr = SocketAddr::from(([127, 0, 0, 1], 8787));
    let mut config = Config::default();
    let (mut tls, mut ca_out) = (false, None);
    let mut args = args;
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--addr" => {
                let v = value()?;
                addr = v.parse().map_err(|_| format!("bad address `{v}`"))?;
            }
            "--port" => {
                let v = value()?;
                let port: u16 = v.parse().map_err(|_| format!("bad port `{v}`"))?;
                addr = SocketAddr::from(([127, 0, 0, 1], port));
            }
            "--dialect" => config.dialect = value()?.parse().map_err(|e| format!("{e}"))?,
            "--paused" => config.paused_keys.push(value()?),
            "--unfunded" => config.unfunded_keys.push(value()?),
            "--rate-limit" => {
                let v = value()?;
                config.rate_limit = v.parse().map_err(|_| format!("bad rate limit `{v}`"))?;
            }
            "--rate-window" => config.rate_window = parse_duration(&value()?)?,
            "--max-body" => {
                let v = value()?;
                config.max_body = v.parse().map_err(|_| format!("bad size `{v}`"))?;
            }
            "--latency" => config.latency = parse_duration(&value()?)?,
            "--key" => config
                .accepted_keys
                .get_or_insert_with(Vec::new)
                .push(value()?),
            "--revoked" => config.revoked_keys.push(value()?),
            "--fault" => config.faults.push(parse_fault(&value()?)?),
            "--tls" if inline.is_none() => tls = true,
            "--ca-out" => ca_out = Some(value()?),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if config.rate_window == Duration::ZERO {
        return Err("--rate-window must be positive".into());
    }
    if ca_out.is_some() && !tls {
        return Err("--ca-out needs --tls".into());
    }
    Ok(Some(Options {
        addr,
        config,
        tls,
        ca_out,
    }))
}

/// Runs the server as the command line asks and blocks until the process is killed.
/// `args` are the arguments after the program (or subcommand) name. Returns the exit
/// status: 0 after `--help`, 2 for a usage error, 1 if the socket cannot be bound.
pub fn run_cli(args: impl Iterator<Item = String>) -> i32 {
    let opts = match parse(args) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{USAGE}");
            return 0;
        }
        Err(e) => {
            eprintln!("kaiko-sim: {e}\n\n{USAGE}");
            return 2;
        }
    };
    let mut config = opts.config;
    if opts.tls {
        let ca = crate::tls::Authority::new("kaiko-sim CA");
        config.tls = Some(ca.local_leaf());
        if let Some(path) = &opts.ca_out
            && let Err(e) = std::fs::write(path, ca.pem())
        {
            eprintln!("kaiko-sim: cannot write --ca-out {path}: {e}");
            return 1;
        }
    }
    let handle = match Sim::start_on(opts.addr, config) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("kaiko-sim: cannot listen on {}: {e}", opts.addr);
            return 1;
        }
    };
    eprintln!("kaiko-sim listening on {}", handle.base_url());
    loop {
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Fault;

    fn args(s: &str) -> impl Iterator<Item = String> {
        s.split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn parses_options() {
        let o = parse(args(
            "--addr 127.0.0.1:0 --rate-limit 5 --fault 429 --fault=drip:5ms --key a --revoked b --latency 10ms",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(o.addr.port(), 0);
        assert_eq!(o.config.rate_limit, 5);
        assert_eq!(o.config.faults.len(), 2);
        assert_eq!(
            o.config.faults[1],
            Fault::Drip {
                per_byte: Duration::from_millis(5)
            }
        );
        assert_eq!(o.config.accepted_keys, Some(vec!["a".to_owned()]));
        assert_eq!(o.config.revoked_keys, vec!["b".to_owned()]);
        assert_eq!(o.config.latency, Duration::from_millis(10));
    }

    #[test]
    fn port_dialect_and_key_states() {
        let o = parse(args(
            "--port 9000 --dialect backend --paused p --unfunded=u",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(o.addr, SocketAddr::from(([127, 0, 0, 1], 9000)));
        assert_eq!(o.config.dialect, crate::Dialect::Backend);
        assert_eq!(o.config.paused_keys, ["p"]);
        assert_eq!(o.config.unfunded_keys, ["u"]);
        let o = parse(args("")).unwrap().unwrap();
        assert_eq!(o.addr, SocketAddr::from(([127, 0, 0, 1], 8787)));
        assert_eq!(o.config.dialect, crate::Dialect::Docs);
        // The last of --port and --addr wins.
        let o = parse(args("--port 1 --addr 0.0.0.0:2")).unwrap().unwrap();
        assert_eq!(o.addr.port(), 2);
        for flag in ["--port", "--addr", "--dialect"] {
            assert!(USAGE.contains(flag), "{flag}");
        }
    }

    /// The flags an option list starts its lines with.
    fn listed_flags(list: &str) -> Vec<&str> {
        list.lines()
            .filter_map(|l| l.split_whitespace().next())
            .map(|f| f.trim_end_matches(','))
            .filter(|f| f.starts_with('-'))
            .collect()
    }

    #[test]
    fn readme_lists_the_flags_of_the_usage() {
        let readme = include_str!("../README.md");
        let section = readme
            .split("## Command line")
            .nth(1)
            .and_then(|s| s.split("```text").nth(1))
            .and_then(|s| s.split("```").next())
            .expect("a Command line section with a text block");
        let usage = USAGE.split("options:").nth(1).unwrap_or_default();
        assert_eq!(listed_flags(section), listed_flags(usage));
        assert!(listed_flags(usage).contains(&"--port"));
    }

    #[test]
    fn usage_errors() {
        assert!(parse(args("--help")).unwrap().is_none());
        for bad in [
            "--bogus",
            "--rate-limit",
            "--rate-limit x",
            "--fault nope",
            "--addr nowhere",
            "--port 65536",
            "--port x",
            "--dialect",
            "--dialect openai",
        ] {
            assert!(parse(args(bad)).is_err(), "{bad}");
        }
        assert_eq!(run_cli(args("--fault nope")), 2);
    }
}
