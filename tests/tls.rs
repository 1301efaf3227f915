//! TLS (issue 6): rustls with the platform's roots by default, `--ca-cert FILE` for a staging
//! CA. A loopback HTTPS fake (rustls, the certificates in tests/fixtures/tls) forwards to the
//! reference service: trusted through `--ca-cert` the run holds; with the platform's roots
//! the target is unreachable (exit 3, a TLS message); a `--ca-cert` that holds no certificate
//! is a usage error naming the file.

mod fakes;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use fakes::{run_bin, target_vars, Action, Fake, TempDir, APP, STATUS, USER};
use graph_contract::contract::Contract;
use graph_contract::runner::{self, Options};
use graph_contract::target::Target;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

const TOKEN: &str = "tls-test-token";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls").join(name)
}

fn server_config() -> Arc<rustls::ServerConfig> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(fixture("server.pem"))
        .expect("server.pem")
        .collect::<Result<_, _>>()
        .expect("server.pem holds certificates");
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).expect("server.key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("a valid certificate and key");
    Arc::new(config)
}

fn https_fake() -> Fake {
    Fake::start_tls(server_config(), |req, up| Action::Reply(up.forward(req)))
}

#[test]
fn a_run_over_https_holds_with_the_staging_ca() {
    let fake = https_fake();
    assert!(fake.base_url().starts_with("https://127.0.0.1:"));
    let dir = TempDir::new("tls-ok");
    let ca = fixture("ca.pem").display().to_string();
    let (out, stdout, stderr) = run_bin(
        &["run", "--cases", "2", "--seed", "4", "--ca-cert", &ca],
        &target_vars(&fake.base_url(), TOKEN),
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("the contract holds"), "{stdout}");
    assert!(!stderr.contains("warning"), "https needs no warning: {stderr}");
    assert!(fake.seen().len() > 100, "the run went through the HTTPS fake");
    fake.upstream().assert_at_baseline();
}

/// The certificate names `localhost` as well as the address: a run by name holds too.
#[test]
fn the_host_name_is_checked_against_the_certificate() {
    let fake = https_fake();
    let pem = std::fs::read(fixture("ca.pem")).expect("ca.pem");
    let routes = runner::routes(APP, STATUS, USER);
    let mut options = Options::new(0, 1);
    options.replay_only = true;
    let run = |base: &str| {
        let target = Target::with_ca(base, TOKEN.into(), Duration::from_secs(5), &pem).expect("ca.pem is a CA");
        runner::run(Contract::embedded(), &target, &routes, &options, false, &mut |_| {})
    };
    let by_name = run(&format!("https://localhost:{}/beta", fake.port()));
    assert_eq!(by_name.exit_code(), 0, "{:?}", by_name.unreachable);
}

#[test]
fn platform_roots_do_not_trust_a_private_ca() {
    let fake = https_fake();
    let dir = TempDir::new("tls-platform");
    let (out, stdout, stderr) =
        run_bin(&["run", "--cases", "0", "--timeout-ms", "5000"], &target_vars(&fake.base_url(), TOKEN), dir.path());
    assert_eq!(out.status.code(), Some(3), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("unreachable"), "{stdout}");
    assert!(stdout.contains("TLS"), "the message says why: {stdout}");
    assert!(fake.seen().is_empty(), "no request may pass an untrusted handshake");
}

#[test]
fn a_ca_cert_that_is_not_pem_is_a_usage_error_naming_the_file() {
    let dir = TempDir::new("tls-bad-ca");
    let text = dir.path().join("not-a-cert.txt");
    std::fs::write(&text, "this is not a certificate\n").expect("write");
    let binary = dir.path().join("random.der");
    std::fs::write(&binary, [0x30u8, 0x82, 0xff, 0x00, 0x13, 0x37, 0xde, 0xad]).expect("write");
    let broken = dir.path().join("broken.pem");
    std::fs::write(&broken, "-----BEGIN CERTIFICATE-----\nMIIB!!!not base64!!!\n-----END CERTIFICATE-----\n")
        .expect("write");
    let missing = dir.path().join("missing.pem");
    let key_only = fixture("server.key");
    // Nothing is listening there: a usage error must come before any connection.
    for file in [&text, &binary, &broken, &missing, &key_only] {
        let shown = file.display().to_string();
        let (out, stdout, stderr) = run_bin(
            &["run", "--cases", "0", "--ca-cert", &shown],
            &target_vars("https://127.0.0.1:9/beta", TOKEN),
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(2), "{shown}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        assert!(stderr.contains(&shown), "the message names {shown}: {stderr}");
        assert!(!stdout.contains("summary"), "{stdout}");
    }
}
