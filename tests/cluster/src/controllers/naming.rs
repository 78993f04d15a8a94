//! Generated object names (`generateName` style: `<prefix>-<5 random chars>`).

use rand::Rng as _;

/// Characters the API server's name generator uses (no vowels, no confusable digits).
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// `prefix` followed by `-` and five random characters, within the 63-character limit.
pub fn generated_name(prefix: &str) -> String {
    let mut rng = rand::rng();
    let suffix: String = (0..5)
        .map(|_| ALPHANUMS[rng.random_range(0..ALPHANUMS.len())] as char)
        .collect();
    let max = 63 - 6;
    let prefix: String = prefix.chars().take(max).collect();
    format!("{prefix}-{suffix}")
}

/// `rand.SafeEncodeString` of apimachinery: each byte mapped onto [`ALPHANUMS`].
pub fn safe_encode(s: &str) -> String {
    s.bytes()
        .map(|b| ALPHANUMS[b as usize % ALPHANUMS.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_have_a_five_char_suffix() {
        let n = generated_name("job");
        assert_eq!(n.len(), 9);
        assert!(n.starts_with("job-"));
        assert!(n[4..].bytes().all(|b| ALPHANUMS.contains(&b)));
        assert!(generated_name(&"x".repeat(80)).len() <= 63);
    }

    #[test]
    fn safe_encode_maps_digits() {
        assert_eq!(safe_encode("0").len(), 1);
        assert!(safe_encode("1234567890")
            .bytes()
            .all(|b| ALPHANUMS.contains(&b)));
    }
}
