//! HTTPS: the real server over TLS on a loopback port with a self-signed certificate made here
//! (rcgen), called by a rustls client that trusts only that certificate.

use borderline_server::{serve_tls, tls_config, AppState, ServerConfig, TlsFiles};
use borderline_store_sqlite::SqliteStore;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;

#[allow(deprecated)] // the ring provider, as the server uses
fn client(cert_der: Vec<u8>) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls_pki_types::CertificateDer::from(cert_der))
        .expect("root");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_https_with_the_configured_certificate_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("cert");
    let files = TlsFiles {
        cert: dir.path().join("cert.pem"),
        key: dir.path().join("key.pem"),
    };
    std::fs::write(&files.cert, made.cert.pem()).expect("write cert");
    std::fs::write(&files.key, made.key_pair.serialize_pem()).expect("write key");
    let tls = tls_config(&files).expect("tls config");

    let store = Arc::new(SqliteStore::open(&dir.path().join("gov.db")).expect("store"));
    let state = AppState::new(store, ServerConfig::default(), None).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(serve_tls(
        listener,
        Arc::new(state),
        tls,
        std::future::pending(),
    ));

    // A client trusting the certificate gets the health answer over TLS.
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
    let mut s = client(made.cert.der().to_vec())
        .connect(name.clone(), tcp)
        .await
        .expect("TLS handshake");
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut answer = String::new();
    s.read_to_string(&mut answer).await.expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"status\":\"ok\""), "{answer}");

    // A client trusting another certificate refuses the server.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("cert");
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    assert!(client(other.cert.der().to_vec())
        .connect(name, tcp)
        .await
        .is_err());

    // Plain HTTP on the TLS port gets no HTTP answer.
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut raw = Vec::new();
    let _ =
        tokio::time::timeout(std::time::Duration::from_secs(5), tcp.read_to_end(&mut raw)).await;
    assert!(!raw.starts_with(b"HTTP/1.1 200"));

    // The server still answers after both failed handshakes.
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
    assert!(client(made.cert.der().to_vec())
        .connect(name, tcp)
        .await
        .is_ok());
}

#[test]
fn a_bad_key_or_certificate_file_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("cert");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, made.cert.pem()).expect("write");
    std::fs::write(&key, "not a key").expect("write");
    let e = tls_config(&TlsFiles {
        cert: cert.clone(),
        key: key.clone(),
    })
    .expect_err("garbage key");
    assert!(e.to_string().contains("key.pem"), "{e}");
    let e = tls_config(&TlsFiles {
        cert: dir.path().join("missing.pem"),
        key,
    })
    .expect_err("missing cert");
    assert!(e.to_string().contains("missing.pem"), "{e}");
}
