//! TLS (issue 6): rustls with the platform's roots by default, `--ca-cert FILE` for a staging
//! CA. A loopback HTTPS fake (rustls, the certificates in tests/fixtures/tls) forwards to the
//! reference service: trusted through `--ca-cert` the run holds; with the platform's roots
//! the target is unreachable (exit 3, a TLS message); a `--ca-cert` that holds no certificate
//! is a usage error naming the file. Issue 13: `--ca-cert` also pins a server's own certificate
//! (the one-step self-signed recipe, CA:TRUE), and every TLS failure says in words what is wrong
//! and how to fix it: a wrong host, an untrusted issuer, an expired certificate.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use common::{embedded_routes, run_bin, target_vars, Action, Fake, TempDir, APP, STATUS, USER};
use graph_contract::contract::Contract;
use graph_contract::run::target::Target;
use graph_contract::run::{self, Options};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

const TOKEN: &str = "tls-test-token";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls").join(name)
}

fn server_config() -> Arc<rustls::ServerConfig> {
    server_config_of("server")
}

/// A server presenting `NAME.pem` with `NAME.key`.
fn server_config_of(name: &str) -> Arc<rustls::ServerConfig> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(fixture(&format!("{name}.pem")))
        .expect("the certificate file")
        .collect::<Result<_, _>>()
        .expect("the file holds certificates");
    let key = PrivateKeyDer::from_pem_file(fixture(&format!("{name}.key"))).expect("the key file");
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
    let routes = embedded_routes(APP, STATUS, USER);
    let mut options = Options::new(0, 1);
    options.replay_only = true;
    let run = |base: &str| {
        let target = Target::with_ca(base, TOKEN.into(), Duration::from_secs(5), &pem).expect("ca.pem is a CA");
        run::run(Contract::embedded(), &target, &routes, &options, false, &mut |_| {})
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

fn https_fake_of(name: &str) -> Fake {
    Fake::start_tls(server_config_of(name), |req, up| Action::Reply(up.forward(req)))
}

/// Runs with `--ca-cert FILE` against a fake presenting `server`; returns exit code and stdout.
fn run_with(server: &str, ca: &str) -> (Option<i32>, String, Fake) {
    let fake = https_fake_of(server);
    let dir = TempDir::new("tls-case");
    let ca = fixture(ca).display().to_string();
    let (out, stdout, stderr) = run_bin(
        &["run", "--cases", "1", "--seed", "5", "--timeout-ms", "5000", "--ca-cert", &ca],
        &target_vars(&fake.base_url(), TOKEN),
        dir.path(),
    );
    (out.status.code(), format!("{stdout}\n{stderr}"), fake)
}

/// The usual one-step recipe (`openssl req -x509 … -addext subjectAltName=…`, so CA:TRUE):
/// pinned by `--ca-cert` with the certificate itself, as curl accepts it.
#[test]
fn a_one_step_self_signed_certificate_is_pinned() {
    let (code, out, fake) = run_with("selfsigned", "selfsigned.pem");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("the contract holds"), "{out}");
    assert!(fake.seen().len() > 50, "the run went through the HTTPS fake");
    fake.upstream().assert_at_baseline();
}

/// A CA plus a leaf it signed: a file holding both the pinned certificate and the CA works too.
#[test]
fn a_file_with_a_ca_and_a_pinned_certificate_trusts_both() {
    let dir = TempDir::new("tls-bundle");
    let bundle = dir.path().join("bundle.pem");
    let mut text = std::fs::read_to_string(fixture("ca.pem")).unwrap();
    text.push_str(&std::fs::read_to_string(fixture("selfsigned.pem")).unwrap());
    std::fs::write(&bundle, text).unwrap();
    for server in ["server", "selfsigned"] {
        let fake = https_fake_of(server);
        let (out, stdout, stderr) = run_bin(
            &["run", "--cases", "0", "--ca-cert", &bundle.display().to_string()],
            &target_vars(&fake.base_url(), TOKEN),
            dir.path(),
        );
        assert_eq!(out.status.code(), Some(0), "{server}\n{stdout}\n{stderr}");
    }
}

/// The self-signed certificate without `--ca-cert`: exit 3, and the message says to pin it.
#[test]
fn a_self_signed_certificate_under_the_platform_roots_says_how_to_pin_it() {
    let fake = https_fake_of("selfsigned");
    let dir = TempDir::new("tls-selfsigned-platform");
    let (out, stdout, _) =
        run_bin(&["run", "--cases", "0", "--timeout-ms", "5000"], &target_vars(&fake.base_url(), TOKEN), dir.path());
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("--ca-cert FILE"), "the fix: {stdout}");
    assert!(!stdout.contains("OtherError") && !stdout.contains("Other("), "no debug dump: {stdout}");
    assert!(fake.seen().is_empty());
}

/// Every failure in words, exit 3, nothing sent past the handshake.
#[test]
fn tls_failures_say_what_is_wrong_and_how_to_fix_it() {
    for (server, ca, words) in [
        // Pinned, but the certificate names another host.
        ("othername", "othername.pem", "does not name the host 127.0.0.1"),
        // A certificate from another CA than the one given.
        ("server", "selfsigned.pem", "neither signed by a CA in --ca-cert nor one of its certificates"),
        // A leaf signed by the given CA, long expired.
        ("expired", "expired-ca.pem", "has expired; renew it"),
    ] {
        let (code, out, fake) = run_with(server, ca);
        assert_eq!(code, Some(3), "{server} with {ca}: {out}");
        assert!(out.contains(words), "{server} with {ca}: {out}");
        assert!(!out.contains("Other(") && !out.contains("InvalidCertificate"), "no debug dump: {out}");
        assert!(fake.seen().is_empty(), "{server}: no request may pass a failed handshake");
    }
}
