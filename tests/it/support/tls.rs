//! Test certificates, made with `openssl`: a CA, a server certificate for 127.0.0.1 signed by it
//! that rustls accepts (v3, SAN, serverAuth), and an unrelated CA for "wrong CA" cases.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The files [`make_certificates`] wrote.
pub struct Certificates {
    /// `ca.pem`, which signed the server certificate.
    pub ca: PathBuf,
    /// `other-ca.pem`, a CA that signed nothing here.
    pub other_ca: PathBuf,
    /// `server.pem` and `server.key`.
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

/// Runs `openssl ARGS` in `dir`; fails the test, with openssl's stderr, if it fails.
pub fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("openssl runs");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Writes the certificates into `dir`.
pub fn make_certificates(dir: &Path) -> Certificates {
    let openssl = |args: &[&str]| openssl(dir, args);
    // EC keys: generated at once, where RSA takes a noticeable while on a busy machine.
    let new_key = [
        "-nodes",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
    ];
    for (name, subject) in [
        ("ca", "/CN=secretrun test CA"),
        ("other-ca", "/CN=some other CA"),
    ] {
        let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
        let mut args = vec!["req", "-x509", "-days", "3650"];
        args.extend(new_key);
        args.extend([
            "-keyout",
            &key,
            "-out",
            &pem,
            "-subj",
            subject,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(&args);
    }
    let mut args = vec!["req"];
    args.extend(new_key);
    args.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    openssl(&args);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("ext.cnf written");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "3650",
        "-extfile",
        "ext.cnf",
    ]);
    Certificates {
        ca: dir.join("ca.pem"),
        other_ca: dir.join("other-ca.pem"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server.key"),
    }
}
