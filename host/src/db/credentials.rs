//! Credentials for the short-lived accounts a handler's session logs in as.
//!
//! The password is random and used once, by the host. What reaches the
//! server is the server's own password verifier, computed here, so that the
//! password itself never appears in a statement a server might log.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};

/// `bytes` random bytes from the operating system, as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("the operating system's random source is readable");
    hex::encode(buffer)
}

/// PostgreSQL's stored form of a SCRAM-SHA-256 password (RFC 5802 / 7677),
/// which `CREATE ROLE … PASSWORD` accepts as it is.
pub fn scram_sha256_verifier(password: &str) -> String {
    // Iterations slow down guessing a weak password from a stolen verifier;
    // this password is 192 random bits and lives for minutes, so a few are
    // enough, and every login (PBKDF2 on both sides) stays cheap.
    const ITERATIONS: u32 = 64;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system's random source is readable");
    scram_verifier_with(password, &salt, ITERATIONS)
}

fn scram_verifier_with(password: &str, salt: &[u8], iterations: u32) -> String {
    let salted = pbkdf2_sha256(password.as_bytes(), salt, iterations);
    let client_key = hmac_sha256(&salted, b"Client Key");
    let stored_key = Sha256::digest(client_key);
    let server_key = hmac_sha256(&salted, b"Server Key");
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        BASE64.encode(salt),
        BASE64.encode(stored_key),
        BASE64.encode(server_key)
    )
}

/// MariaDB's `mysql_native_password` hash, for `IDENTIFIED BY PASSWORD`.
pub fn mysql_native_hash(password: &str) -> String {
    use sha1::Digest as _;
    let once = sha1::Sha1::digest(password.as_bytes());
    let twice = sha1::Sha1::digest(once);
    format!("*{}", hex::encode_upper(twice))
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|byte| byte ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(block.map(|byte| byte ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// PBKDF2 with HMAC-SHA-256, one 32-byte block: all SCRAM needs.
fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut first = salt.to_vec();
    first.extend_from_slice(&1u32.to_be_bytes());
    let mut block = hmac_sha256(password, &first);
    let mut result = block;
    for _ in 1..iterations {
        block = hmac_sha256(password, &block);
        result.iter_mut().zip(block).for_each(|(r, b)| *r ^= b);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn pbkdf2_matches_the_published_vector() {
        assert_eq!(
            hex::encode(pbkdf2_sha256(b"password", b"salt", 4096)),
            "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"
        );
    }

    #[test]
    fn scram_verifier_matches_rfc_7677() {
        // RFC 7677's example: user "user", password "pencil".
        let salt = BASE64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let verifier = scram_verifier_with("pencil", &salt, 4096);
        let salted = pbkdf2_sha256(b"pencil", &salt, 4096);
        // The RFC's ServerSignature is HMAC(ServerKey, AuthMessage).
        let auth_message = "n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let server_key = hmac_sha256(&salted, b"Server Key");
        let signature = hmac_sha256(&server_key, auth_message.as_bytes());
        assert_eq!(
            BASE64.encode(signature),
            "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
        assert!(verifier.starts_with("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"));
        assert!(verifier.ends_with(&format!(":{}", BASE64.encode(server_key))));
    }

    #[test]
    fn mysql_native_hash_matches_the_servers_password_function() {
        // SELECT PASSWORD('secret') on MariaDB.
        assert_eq!(
            mysql_native_hash("secret"),
            "*14E65567ABDB5135D0CFD9A70B3032C179A49EE7"
        );
    }
}
