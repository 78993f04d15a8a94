//! Hostile repository addresses: `Location::parse` never panics on any text (including
//! invalid UTF-8 read lossily), rejects with one line naming the input, and whatever it
//! accepts prints back to an address that parses to the same location.
//!
//! proptest on the stable toolchain: arbitrary bytes, and addresses built from the
//! grammar's pieces (schemes, hosts, ports, buckets, prefixes) with hostile fragments.
//! A panic fails the test.

use cairn_storage::Location;
use proptest::prelude::*;

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("/".to_owned()),
        Just("//".to_owned()),
        Just(":".to_owned()),
        Just("..".to_owned()),
        Just("../../etc".to_owned()),
        Just("\0".to_owned()),
        Just("%2e%2e".to_owned()),
        Just("[::1]".to_owned()),
        Just("host:99999999999".to_owned()),
        Just("host:-1".to_owned()),
        Just("user:pass@host".to_owned()),
        Just("bucket".to_owned()),
        Just("é".to_owned()),
        Just(" ".to_owned()),
        "[a-z0-9.-]{1,10}",
        "\\PC{0,8}",
    ]
}

fn address() -> impl Strategy<Value = String> {
    let scheme = prop_oneof![
        Just(""),
        Just("local:"),
        Just("s3:"),
        Just("s3:http://"),
        Just("s3:https://"),
        Just("s3:ftp://"),
        Just("gs:"),
        Just("azure:"),
        Just("sftp:"),
        Just("rest:"),
        Just("local:local:"),
    ];
    (scheme, proptest::collection::vec(piece(), 0..6))
        .prop_map(|(s, parts)| format!("{s}{}", parts.join("/")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn parse_is_total_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn parse_is_total_on_addresses(s in address()) {
        check(&s);
    }

    #[test]
    fn join_is_total(s in address(), sub in "\\PC{0,30}") {
        if let Ok(loc) = Location::parse(&s) {
            let joined = loc.join(&sub);
            let _ = (joined.to_string(), joined.prefix().to_owned());
        }
    }
}

fn check(input: &str) {
    match Location::parse(input) {
        Ok(loc) => {
            let printed = loc.to_string();
            assert_eq!(
                Location::parse(&printed).ok(),
                Some(loc),
                "{input:?} -> {printed:?}"
            );
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with("invalid repository address "), "{msg:?}");
            assert!(
                !msg.contains(['\n', '\r', '\0']),
                "multi-line error: {msg:?}"
            );
        }
    }
}
