//! The audit chain: each entry carries the hash of the one before, so that
//! a changed, inserted or deleted row breaks the chain where it happened.
//!
//! The hash is SHA-256 over the previous hash and a canonical encoding of
//! the entry (its fields in a fixed order, JSON values with sorted keys, as
//! `serde_json` writes maps), hex-encoded.

use sha2::{Digest, Sha256};

use crate::model::AuditEntry;

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of an entry, given the previous hash.
pub fn entry_hash(prev_hash: &str, e: &AuditEntry) -> String {
    let mut h = Sha256::new();
    let mut field = |s: &str| {
        // Length-prefixed, so that field boundaries cannot be forged.
        h.update((s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    };
    field(prev_hash);
    field(&e.seq.to_string());
    field(&e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
    field(&e.actor.id.map(|i| i.to_string()).unwrap_or_default());
    field(&e.actor.label);
    field(&e.action);
    field(&e.record_kind);
    field(&e.record_id);
    field(&e.before.as_ref().map(|v| v.to_string()).unwrap_or_default());
    field(&e.after.as_ref().map(|v| v.to_string()).unwrap_or_default());
    let digest = h.finalize();
    let mut out = String::with_capacity(64);
    for b in digest {
        use std::fmt::Write;
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Where a chain is broken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// An entry's recorded previous hash is not the hash of the entry before.
    #[error("entry {seq}: its previous hash does not match entry {}'s hash (an entry was removed or changed)", .seq - 1)]
    PrevMismatch {
        /// The entry.
        seq: i64,
    },
    /// An entry's content does not hash to its recorded hash.
    #[error("entry {seq}: its content does not match its hash (the entry was changed)")]
    HashMismatch {
        /// The entry.
        seq: i64,
    },
    /// A sequence number is missing.
    #[error("entry {expected} is missing (found {found} next)")]
    Gap {
        /// The sequence number expected.
        expected: i64,
        /// The one found.
        found: i64,
    },
}

/// Verifies a run of entries, given the hash and sequence before them.
/// Returns the hash and sequence of the last entry, to continue with.
pub fn verify_run(prev: (&str, i64), entries: &[AuditEntry]) -> Result<(String, i64), ChainBreak> {
    let (mut prev_hash, mut prev_seq) = (prev.0.to_owned(), prev.1);
    for e in entries {
        if e.seq != prev_seq + 1 {
            return Err(ChainBreak::Gap {
                expected: prev_seq + 1,
                found: e.seq,
            });
        }
        if e.prev_hash != prev_hash {
            return Err(ChainBreak::PrevMismatch { seq: e.seq });
        }
        if entry_hash(&prev_hash, e) != e.hash {
            return Err(ChainBreak::HashMismatch { seq: e.seq });
        }
        prev_hash = e.hash.clone();
        prev_seq = e.seq;
    }
    Ok((prev_hash, prev_seq))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Actor;
    use chrono::TimeZone;

    fn entry(seq: i64, prev: &str) -> AuditEntry {
        let mut e = AuditEntry {
            seq,
            at: chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            actor: Actor::system(),
            action: "x.created".into(),
            record_kind: "x".into(),
            record_id: seq.to_string(),
            before: None,
            after: Some(serde_json::json!({"b": 1, "a": [1, 2]})),
            prev_hash: prev.into(),
            hash: String::new(),
        };
        e.hash = entry_hash(prev, &e);
        e
    }

    #[test]
    fn a_good_chain_verifies_and_a_changed_one_does_not() {
        let a = entry(1, GENESIS);
        let b = entry(2, &a.hash);
        let c = entry(3, &b.hash);
        assert!(verify_run((GENESIS, 0), &[a.clone(), b.clone(), c.clone()]).is_ok());

        let mut tampered = b.clone();
        tampered.action = "x.deleted".into();
        assert_eq!(
            verify_run((GENESIS, 0), &[a.clone(), tampered, c.clone()]),
            Err(ChainBreak::HashMismatch { seq: 2 })
        );
        assert_eq!(
            verify_run((GENESIS, 0), &[a.clone(), c.clone()]),
            Err(ChainBreak::Gap {
                expected: 2,
                found: 3
            })
        );
        let mut rehashed = b;
        rehashed.action = "x.deleted".into();
        rehashed.hash = entry_hash(&a.hash, &rehashed);
        assert_eq!(
            verify_run((GENESIS, 0), &[a, rehashed, c]),
            Err(ChainBreak::PrevMismatch { seq: 3 })
        );
    }
}
