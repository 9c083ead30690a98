//! Prisma's checksum of a migration's bytes.

use faber_db_handler::ids::lower_hex;
use sha2::{Digest, Sha256};

/// Prisma's `checksum` column: the lowercase hex SHA-256 of the file's exact
/// bytes. Prisma compares it on every `migrate` run to detect edited files.
pub fn checksum(bytes: &[u8]) -> String {
    lower_hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_is_lowercase_sha256_hex() {
        assert_eq!(
            checksum(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
