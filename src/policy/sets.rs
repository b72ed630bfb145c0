//! Lookup sets for policy lists (pure): networks ([`CidrSet`]), number prefixes ([`PrefixSet`])
//! and case-insensitive substrings ([`Patterns`]). Lookups cost one hash probe per distinct
//! prefix length, so lists of many thousands of entries stay cheap on the request path.

use ipnet::IpNet;
use std::collections::{BTreeSet, HashSet};
use std::net::IpAddr;

/// A set of IPv4 and IPv6 networks.
#[derive(Debug, Clone, Default)]
pub struct CidrSet {
    v4: Vec<(u8, HashSet<u32>)>,
    v6: Vec<(u8, HashSet<u128>)>,
    len: usize,
}

fn mask4(bits: u32, len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        bits & (u32::MAX << (32 - u32::from(len)))
    }
}

fn mask6(bits: u128, len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        bits & (u128::MAX << (128 - u32::from(len)))
    }
}

impl CidrSet {
    /// Adds a network.
    pub fn insert(&mut self, net: IpNet) {
        self.len += 1;
        match net {
            IpNet::V4(n) => {
                let len = n.prefix_len();
                let key = mask4(u32::from(n.addr()), len);
                match self.v4.iter_mut().find(|(l, _)| *l == len) {
                    Some((_, set)) => {
                        set.insert(key);
                    }
                    None => {
                        self.v4.push((len, HashSet::from([key])));
                        self.v4.sort_by_key(|(l, _)| *l);
                    }
                }
            }
            IpNet::V6(n) => {
                let len = n.prefix_len();
                let key = mask6(u128::from(n.addr()), len);
                match self.v6.iter_mut().find(|(l, _)| *l == len) {
                    Some((_, set)) => {
                        set.insert(key);
                    }
                    None => {
                        self.v6.push((len, HashSet::from([key])));
                        self.v6.sort_by_key(|(l, _)| *l);
                    }
                }
            }
        }
    }

    /// Whether any network contains `ip` (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match canonical(ip) {
            IpAddr::V4(v4) => {
                let bits = u32::from(v4);
                self.v4.iter().any(|(l, s)| s.contains(&mask4(bits, *l)))
            }
            IpAddr::V6(v6) => {
                let bits = u128::from(v6);
                self.v6.iter().any(|(l, s)| s.contains(&mask6(bits, *l)))
            }
        }
    }

    /// Whether the set has no network.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// `ip` with IPv4-mapped IPv6 turned into IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Parses a network: `a.b.c.d/len`, `x::/len`, or a bare address (a host network).
pub fn parse_net(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    text.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("{text:?} is not an IP network (a.b.c.d/len or x::/len)"))
}

/// A set of dial-string prefixes; lookups normalise away visual separators.
#[derive(Debug, Clone, Default)]
pub struct PrefixSet {
    set: HashSet<String>,
    lengths: BTreeSet<usize>,
}

/// A dial string with spaces, dashes, dots and parentheses removed.
pub fn normalize_number(number: &str) -> String {
    number
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect()
}

/// Checks one prefix as written: `+` first at most, then digits, `*` or `#`.
pub fn parse_prefix(text: &str) -> Result<String, String> {
    let p = normalize_number(text.trim());
    let digits = p.strip_prefix('+').unwrap_or(&p);
    if p == "+" {
        // Every international number in E.164 form.
        return Ok(p);
    }
    if digits.is_empty()
        || !digits
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
    {
        return Err(format!(
            "{text:?} is not a number prefix (optional '+', then digits)"
        ));
    }
    Ok(p)
}

impl PrefixSet {
    /// Adds a normalised prefix.
    pub fn insert(&mut self, prefix: String) {
        self.lengths.insert(prefix.len());
        self.set.insert(prefix);
    }

    /// The longest prefix of `number` (normalised) in the set.
    pub fn longest_match<'a>(&'a self, number: &str) -> Option<&'a str> {
        let number = normalize_number(number);
        self.lengths
            .iter()
            .rev()
            .filter(|&&l| l <= number.len() && number.is_char_boundary(l))
            .find_map(|&l| self.set.get(&number[..l]).map(String::as_str))
    }

    /// Whether a prefix of `number` is in the set.
    pub fn matches(&self, number: &str) -> bool {
        self.longest_match(number).is_some()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// Case-insensitive substrings (User-Agent patterns).
#[derive(Debug, Clone, Default)]
pub struct Patterns {
    lower: Vec<String>,
}

impl Patterns {
    /// Adds a pattern.
    pub fn insert(&mut self, pattern: &str) {
        let p = pattern.trim().to_ascii_lowercase();
        if !p.is_empty() && !self.lower.contains(&p) {
            self.lower.push(p);
        }
    }

    /// The first pattern found in `value`, ASCII case-insensitively.
    pub fn find(&self, value: &[u8]) -> Option<&str> {
        if self.lower.is_empty() {
            return None;
        }
        let lower = value.to_ascii_lowercase();
        self.lower
            .iter()
            .find(|p| memchr::memmem::find(&lower, p.as_bytes()).is_some())
            .map(String::as_str)
    }

    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.lower.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.lower.is_empty()
    }
}

/// The entries of a plain-text list: one per line, `#` starts a comment, blank lines skipped.
/// Yields (1-based line, entry).
pub fn list_entries(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(i, line)| {
        let entry = line.split('#').next().unwrap_or("").trim();
        (!entry.is_empty()).then_some((i + 1, entry))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_lookup() {
        let mut set = CidrSet::default();
        for n in ["10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "0.0.0.0/0"] {
            set.insert(parse_net(n).unwrap());
        }
        assert!(set.contains("8.8.8.8".parse().unwrap()));
        assert!(set.contains("::ffff:10.1.2.3".parse().unwrap()));
        assert!(set.contains("2001:db8:1::1".parse().unwrap()));
        assert!(!set.contains("2001:db9::1".parse().unwrap()));
        let mut small = CidrSet::default();
        small.insert(parse_net("10.1.0.0/16").unwrap());
        assert!(small.contains("10.1.200.1".parse().unwrap()));
        assert!(!small.contains("10.2.0.1".parse().unwrap()));
        assert!(parse_net("10.0.0.0/33").is_err());
        assert!(parse_net("banana").is_err());
    }

    #[test]
    fn prefixes_match_longest() {
        let mut set = PrefixSet::default();
        for p in ["+1900", "+19", "00882"] {
            set.insert(parse_prefix(p).unwrap());
        }
        assert_eq!(set.longest_match("+1 900-555-1234"), Some("+1900"));
        assert_eq!(set.longest_match("+1915"), Some("+19"));
        assert!(set.matches("0088212345"));
        assert!(!set.matches("0044"));
        assert_eq!(parse_prefix("+").unwrap(), "+");
        assert!(parse_prefix("").is_err());
        assert!(parse_prefix("12a").is_err());
        assert!(parse_prefix("é").is_err());
    }

    #[test]
    fn patterns_and_lists() {
        let mut p = Patterns::default();
        for (_, e) in list_entries("# scanners\nfriendly-scanner\n\n  sipvicious # old\n") {
            p.insert(e);
        }
        assert_eq!(p.len(), 2);
        assert_eq!(p.find(b"Friendly-Scanner 1.0"), Some("friendly-scanner"));
        assert_eq!(p.find(b"SIPVicious"), Some("sipvicious"));
        assert_eq!(p.find(b"Yealink"), None);
    }
}
