//! Puts the trust anchor of the API host into the image: `KAIKO_CA_DER=path/to/root-ca.der`
//! at build time (DER; from PEM: `openssl x509 -in ca.pem -outform der -out ca.der`).
//! Without it the image holds no anchor and every TLS handshake is refused (never
//! silently unverified).
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=KAIKO_CA_DER");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("api-ca.der");
    let der = match std::env::var_os("KAIKO_CA_DER") {
        Some(path) => {
            println!("cargo:rerun-if-changed={}", path.to_string_lossy());
            std::fs::read(&path)
                .unwrap_or_else(|e| panic!("KAIKO_CA_DER: cannot read {path:?}: {e}"))
        }
        None => Vec::new(),
    };
    std::fs::write(&out, der).expect("write the trust anchor");
}
