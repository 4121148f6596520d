//! Secrets at rest: AEAD encryption of tool credentials and HMAC digests of API keys and tokens.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{StoreError, StoreResult};

const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;

/// A 256-bit key from configuration. `Debug` never shows it.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey([REDACTED])")
    }
}

impl SecretKey {
    /// A key from 64 hex characters.
    pub fn from_hex(hex_key: &str) -> StoreResult<Self> {
        let bytes =
            hex::decode(hex_key.trim()).map_err(|_| StoreError::Config("the key is not hex".into()))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| StoreError::Config("the key must be 32 bytes (64 hex characters)".into()))?;
        Ok(Self(bytes))
    }

    /// A new random key (first run generates one and stores it).
    pub fn generate() -> StoreResult<Self> {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes).map_err(|e| StoreError::Config(format!("no randomness: {e}")))?;
        Ok(Self(bytes))
    }

    /// The raw key, for the one place that needs it (signing tokens).
    #[must_use]
    pub fn expose_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key as hex, for writing it to the configuration once.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// Encrypts and decrypts small secrets with XChaCha20-Poly1305. The associated data binds a ciphertext to its
/// row (organisation and id), so ciphertext copied to another row or organisation does not decrypt.
#[derive(Clone, Debug)]
pub struct SecretBox {
    key: SecretKey,
}

impl SecretBox {
    /// A box with `key`.
    #[must_use]
    pub fn new(key: SecretKey) -> Self {
        Self { key }
    }

    /// `version || nonce || ciphertext+tag`.
    pub fn seal(&self, plaintext: &[u8], associated: &[u8]) -> StoreResult<Vec<u8>> {
        let cipher = XChaCha20Poly1305::new((&self.key.0).into());
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::getrandom(&mut nonce).map_err(|e| StoreError::Config(format!("no randomness: {e}")))?;
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: associated,
                },
            )
            .map_err(|_| StoreError::Config("encryption failed".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts what [`seal`](Self::seal) produced; a wrong key, other associated data or changed bytes fail
    /// with [`StoreError::Decrypt`].
    pub fn open(&self, sealed: &[u8], associated: &[u8]) -> StoreResult<Vec<u8>> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != FORMAT_V1 {
            return Err(StoreError::Decrypt);
        }
        let cipher = XChaCha20Poly1305::new((&self.key.0).into());
        let nonce = XNonce::from_slice(&sealed[1..=NONCE_LEN]);
        cipher
            .decrypt(
                nonce,
                Payload {
                    msg: &sealed[1 + NONCE_LEN..],
                    aad: associated,
                },
            )
            .map_err(|_| StoreError::Decrypt)
    }
}

/// HMAC-SHA256 of a secret (API key secret, refresh token), keyed by a server secret, so a stolen database does
/// not yield usable credentials and digests cannot be brute-forced offline without the key.
pub fn hmac_digest(key: &SecretKey, secret: &[u8]) -> StoreResult<Vec<u8>> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.0)
        .map_err(|_| StoreError::Config("bad HMAC key".into()))?;
    mac.update(secret);
    Ok(mac.finalize().into_bytes().to_vec())
}

/// Compares a secret with a stored digest in constant time.
pub fn hmac_verify(key: &SecretKey, secret: &[u8], digest: &[u8]) -> StoreResult<bool> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.0)
        .map_err(|_| StoreError::Config("bad HMAC key".into()))?;
    mac.update(secret);
    Ok(mac.verify_slice(digest).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_refuse_tampering() {
        let b = SecretBox::new(SecretKey::generate().unwrap());
        let sealed = b.seal(b"splunk-token-123", b"org1/tool1").unwrap();
        assert!(!sealed.windows(16).any(|w| w == b"splunk-token-123"));
        assert_eq!(b.open(&sealed, b"org1/tool1").unwrap(), b"splunk-token-123");
        assert!(matches!(b.open(&sealed, b"org2/tool1"), Err(StoreError::Decrypt)));
        let other = SecretBox::new(SecretKey::generate().unwrap());
        assert!(matches!(
            other.open(&sealed, b"org1/tool1"),
            Err(StoreError::Decrypt)
        ));
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(matches!(
            b.open(&flipped, b"org1/tool1"),
            Err(StoreError::Decrypt)
        ));
        assert!(matches!(b.open(b"short", b""), Err(StoreError::Decrypt)));
    }

    #[test]
    fn keys_parse_and_hide() {
        let k = SecretKey::generate().unwrap();
        assert_eq!(SecretKey::from_hex(&k.to_hex()).unwrap().0, k.0);
        assert!(SecretKey::from_hex("abcd").is_err());
        assert_eq!(format!("{k:?}"), "SecretKey([REDACTED])");
        let d = hmac_digest(&k, b"sk_live_secret").unwrap();
        assert!(hmac_verify(&k, b"sk_live_secret", &d).unwrap());
        assert!(!hmac_verify(&k, b"sk_live_secreT", &d).unwrap());
    }
}
