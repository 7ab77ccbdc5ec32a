//! Host-based access rules in `pg_hba.conf` syntax: the first line that matches a
//! connection's type, database, user and address decides how it authenticates.
//!
//! ```text
//! # TYPE     DATABASE  USER         ADDRESS          METHOD
//! hostssl    all       +analysts    10.0.0.0/8       scram-sha-256
//! host       custos    app          192.168.1.0 255.255.255.0  scram-sha-256
//! host       all       all          127.0.0.1/32     trust
//! host       all       all          0.0.0.0/0        reject
//! ```
//!
//! * TYPE: `local` (a Unix socket; custos listens on TCP only, so such lines never match),
//!   `host` (TCP with or without TLS), `hostssl` (TLS only), `hostnossl` (without TLS).
//! * DATABASE: comma-separated names, `all`, `sameuser` (the database named like the user);
//!   `replication` never matches (custos has no replication connections).
//! * USER: comma-separated names, `all`, `+role` (members of `role`, directly or through
//!   other roles; superuser status does not count, as in PostgreSQL).
//! * ADDRESS: `all`, a CIDR address (`10.0.0.0/8`, `::1/128`), or an address followed by
//!   a netmask column. Host names, `samehost` and `samenet` are refused when the file loads.
//! * METHOD: `scram-sha-256` (and `md5`, which PostgreSQL runs as SCRAM for SCRAM
//!   verifiers), `reject`, or `trust`. `trust` is accepted only when the server is
//!   configured to allow it (`hba_allow_trust = true`) and only on lines whose addresses are
//!   all loopback (`127.0.0.0/8`, `::1`); a connection is trusted only if it really comes
//!   from a loopback address.
//!
//! Quoted names (`"Sales Team"`) keep their case; `#` starts a comment. Options after the
//! method (`clientcert=...`) and `@file` inclusions are refused at load time, so a rule
//! never means less than it says. No line matching is 28000 `no pg_hba.conf entry for
//! host ...`, a `reject` line 28000 `pg_hba.conf rejects connection for host ...`.

use std::net::IpAddr;
use std::path::Path;

/// Longest rules file accepted (a guard against pointing the setting at a huge file).
const MAX_FILE_BYTES: u64 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionType {
    Local,
    Host,
    HostSsl,
    HostNoSsl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    ScramSha256,
    Reject,
    Trust,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DatabaseMatch {
    All,
    SameUser,
    Replication,
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum UserMatch {
    All,
    Name(String),
    MemberOf(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum AddressMatch {
    All,
    Network { address: IpAddr, prefix: u8 },
}

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub line: usize,
    kind: ConnectionType,
    databases: Vec<DatabaseMatch>,
    users: Vec<UserMatch>,
    address: Option<AddressMatch>,
    pub method: Method,
}

/// The rules of one file, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HbaRules {
    rules: Vec<Rule>,
}

/// A field: its text and whether it was quoted (quoted keywords are plain names).
#[derive(Debug, Clone)]
struct Field {
    items: Vec<(String, bool)>,
}

/// Splits a line into fields; each field is a comma-separated list.
fn fields(line: &str) -> Result<Vec<Field>, String> {
    let mut out: Vec<Field> = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.peek() {
            None | Some('#') => break,
            _ => {}
        }
        let mut field = Field { items: Vec::new() };
        loop {
            let mut item = String::new();
            let mut quoted = false;
            while let Some(&c) = chars.peek() {
                if c == '"' {
                    chars.next();
                    quoted = true;
                    let mut closed = false;
                    for q in chars.by_ref() {
                        if q == '"' {
                            closed = true;
                            break;
                        }
                        item.push(q);
                    }
                    if !closed {
                        return Err("unterminated quoted string".into());
                    }
                } else if c == ',' || c.is_whitespace() || c == '#' {
                    break;
                } else {
                    item.push(c);
                    chars.next();
                }
            }
            field.items.push((item, quoted));
            if chars.peek() == Some(&',') {
                chars.next();
                continue;
            }
            break;
        }
        out.push(field);
    }
    Ok(out)
}

fn single<'a>(field: &'a Field, what: &str) -> Result<&'a str, String> {
    match field.items.as_slice() {
        [(text, _)] if !text.is_empty() => Ok(text),
        _ => Err(format!("invalid {what}")),
    }
}

fn parse_network(address: &str, mask: Option<&str>) -> Result<AddressMatch, String> {
    if address == "all" {
        return Ok(AddressMatch::All);
    }
    if matches!(address, "samehost" | "samenet") {
        return Err(format!("\"{address}\" is not supported"));
    }
    let (ip_text, prefix_text) = match address.split_once('/') {
        Some((ip, prefix)) => (ip, Some(prefix)),
        None => (address, None),
    };
    let ip: IpAddr = ip_text
        .parse()
        .map_err(|_| format!("invalid IP address \"{address}\" (host names are not supported)"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = match (prefix_text, mask) {
        (Some(p), None) => p
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= max)
            .ok_or_else(|| format!("invalid CIDR mask in address \"{address}\""))?,
        (None, Some(mask)) => {
            let mask: IpAddr = mask
                .parse()
                .map_err(|_| format!("invalid IP mask \"{mask}\""))?;
            mask_prefix(&mask)
                .filter(|_| mask.is_ipv4() == ip.is_ipv4())
                .ok_or_else(|| format!("invalid IP mask \"{mask}\""))?
        }
        (None, None) => {
            return Err(format!(
                "address \"{address}\" needs a CIDR mask or a netmask"
            ))
        }
        (Some(_), Some(_)) => return Err("an address with a CIDR mask takes no netmask".into()),
    };
    Ok(AddressMatch::Network {
        address: ip,
        prefix,
    })
}

/// The prefix length of a contiguous netmask.
fn mask_prefix(mask: &IpAddr) -> Option<u8> {
    let bits: u128 = match mask {
        IpAddr::V4(v4) => u128::from(u32::from(*v4)) << 96,
        IpAddr::V6(v6) => u128::from(*v6),
    };
    let ones = bits.leading_ones();
    if bits.checked_shl(ones).unwrap_or(0) != 0 {
        return None;
    }
    let ones = if mask.is_ipv4() { ones.min(32) } else { ones };
    u8::try_from(ones).ok()
}

fn to_bits(ip: &IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(*v4)), 32),
        IpAddr::V6(v6) => (u128::from(*v6), 128),
    }
}

/// Whether `ip` is inside `network/prefix` (IPv4-mapped IPv6 peers compare as IPv4).
fn in_network(ip: &IpAddr, network: &IpAddr, prefix: u8) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(*ip, IpAddr::V4),
        v4 => *v4,
    };
    if ip.is_ipv4() != network.is_ipv4() {
        return false;
    }
    let (a, width) = to_bits(&ip);
    let (b, _) = to_bits(network);
    if prefix == 0 {
        return true;
    }
    let shift = u32::from(width - prefix.min(width));
    (a >> shift) == (b >> shift)
}

/// Whether every address of `network/prefix` is a loopback address.
fn network_is_loopback(network: &IpAddr, prefix: u8) -> bool {
    match network {
        IpAddr::V4(v4) => prefix >= 8 && v4.octets()[0] == 127,
        IpAddr::V6(v6) => prefix == 128 && v6.is_loopback(),
    }
}

/// Whether a connection from `peer` is a loopback one.
pub fn is_loopback(peer: &IpAddr) -> bool {
    match peer {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(v6.is_loopback(), |v4| v4.is_loopback()),
        IpAddr::V4(v4) => v4.is_loopback(),
    }
}

impl HbaRules {
    /// Reads the rules file at `path`.
    pub fn load(path: &Path, allow_trust: bool) -> Result<HbaRules, String> {
        let size = std::fs::metadata(path)
            .map_err(|e| format!("cannot read hba file {}: {e}", path.display()))?
            .len();
        if size > MAX_FILE_BYTES {
            return Err(format!("hba file {} is too large", path.display()));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read hba file {}: {e}", path.display()))?;
        HbaRules::parse(&text, allow_trust).map_err(|e| format!("hba file {}: {e}", path.display()))
    }

    /// Parses rules; an error names the line.
    pub fn parse(text: &str, allow_trust: bool) -> Result<HbaRules, String> {
        let mut rules = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let number = i + 1;
            let rule =
                parse_line(line, number, allow_trust).map_err(|e| format!("line {number}: {e}"))?;
            if let Some(rule) = rule {
                rules.push(rule);
            }
        }
        Ok(HbaRules { rules })
    }

    /// The first rule matching a TCP connection from `peer` (`tls` when encrypted) for
    /// `user` on `database`; `is_member(user, role)` answers `+role`.
    pub fn decide(
        &self,
        peer: IpAddr,
        tls: bool,
        database: &str,
        user: &str,
        is_member: &dyn Fn(&str, &str) -> bool,
    ) -> Option<&Rule> {
        self.rules.iter().find(|rule| {
            let type_matches = match rule.kind {
                ConnectionType::Local => false,
                ConnectionType::Host => true,
                ConnectionType::HostSsl => tls,
                ConnectionType::HostNoSsl => !tls,
            };
            type_matches
                && rule.databases.iter().any(|d| match d {
                    DatabaseMatch::All => true,
                    DatabaseMatch::SameUser => database == user,
                    DatabaseMatch::Replication => false,
                    DatabaseMatch::Name(n) => n == database,
                })
                && rule.users.iter().any(|u| match u {
                    UserMatch::All => true,
                    UserMatch::Name(n) => n == user,
                    UserMatch::MemberOf(role) => is_member(user, role),
                })
                && match &rule.address {
                    None | Some(AddressMatch::All) => true,
                    Some(AddressMatch::Network { address, prefix }) => {
                        in_network(&peer, address, *prefix)
                    }
                }
        })
    }
}

fn parse_line(line: &str, number: usize, allow_trust: bool) -> Result<Option<Rule>, String> {
    let fields = fields(line)?;
    if fields.is_empty() {
        return Ok(None);
    }
    if fields
        .iter()
        .any(|f| f.items.iter().any(|(t, q)| !q && t.starts_with('@')))
    {
        return Err("@file inclusions are not supported".into());
    }
    let kind = match single(&fields[0], "connection type")? {
        "local" => ConnectionType::Local,
        "host" => ConnectionType::Host,
        "hostssl" => ConnectionType::HostSsl,
        "hostnossl" => ConnectionType::HostNoSsl,
        other if other.starts_with("hostgss") || other.starts_with("hostnogss") => {
            return Err(format!("connection type \"{other}\" is not supported"))
        }
        other => return Err(format!("invalid connection type \"{other}\"")),
    };
    let databases = fields
        .get(1)
        .ok_or("missing database")?
        .items
        .iter()
        .map(|(t, quoted)| match (t.as_str(), quoted) {
            ("all", false) => DatabaseMatch::All,
            ("sameuser", false) => DatabaseMatch::SameUser,
            ("replication", false) => DatabaseMatch::Replication,
            ("samerole" | "samegroup", false) => DatabaseMatch::Replication,
            _ => DatabaseMatch::Name(t.clone()),
        })
        .collect::<Vec<_>>();
    if fields[1]
        .items
        .iter()
        .any(|(t, q)| !q && (t == "samerole" || t == "samegroup"))
    {
        return Err("\"samerole\" is not supported".into());
    }
    let users = fields
        .get(2)
        .ok_or("missing user")?
        .items
        .iter()
        .map(|(t, quoted)| match (t.as_str(), quoted) {
            ("all", false) => UserMatch::All,
            (name, false) if name.starts_with('+') && name.len() > 1 => {
                UserMatch::MemberOf(name[1..].to_string())
            }
            _ => UserMatch::Name(t.clone()),
        })
        .collect::<Vec<_>>();
    let (address, method_field) = if kind == ConnectionType::Local {
        (None, 3)
    } else {
        let address_text = single(fields.get(3).ok_or("missing address")?, "address")?;
        // A netmask column follows a plain address.
        let mask = (!address_text.contains('/') && address_text != "all")
            .then(|| fields.get(4).map(|f| single(f, "netmask")))
            .flatten()
            .transpose()?;
        let next = if mask.is_some() { 5 } else { 4 };
        (Some(parse_network(address_text, mask)?), next)
    };
    let method = match single(
        fields
            .get(method_field)
            .ok_or("missing authentication method")?,
        "method",
    )? {
        "scram-sha-256" | "md5" => Method::ScramSha256,
        "reject" => Method::Reject,
        "trust" => Method::Trust,
        other => {
            return Err(format!(
                "authentication method \"{other}\" is not supported"
            ))
        }
    };
    if fields.len() > method_field + 1 {
        return Err("authentication options are not supported".into());
    }
    if method == Method::Trust {
        if !allow_trust {
            return Err("\"trust\" is not allowed unless hba_allow_trust = true".into());
        }
        match &address {
            Some(AddressMatch::Network { address, prefix })
                if network_is_loopback(address, *prefix) => {}
            None => {}
            _ => return Err("\"trust\" is only allowed for loopback addresses".into()),
        }
    }
    Ok(Some(Rule {
        line: number,
        kind,
        databases,
        users,
        address,
        method,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_members(_: &str, _: &str) -> bool {
        false
    }

    #[test]
    fn first_matching_line_decides() {
        let rules = HbaRules::parse(
            "# comment\n\
             hostssl all +staff 10.0.0.0/8 scram-sha-256\n\
             host custos app 192.168.1.0 255.255.255.0 scram-sha-256\n\
             host all \"Bad Guy\" 0.0.0.0/0 reject\n\
             host all all 127.0.0.1/32 trust  # local tools\n\
             host all all ::1/128 scram-sha-256\n",
            true,
        )
        .unwrap();
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let lan: IpAddr = "192.168.1.7".parse().unwrap();
        let ten: IpAddr = "10.1.2.3".parse().unwrap();
        let member = |u: &str, r: &str| u == "ann" && r == "staff";
        assert_eq!(
            rules
                .decide(local, false, "custos", "x", &no_members)
                .unwrap()
                .method,
            Method::Trust
        );
        assert_eq!(
            rules
                .decide(lan, false, "custos", "app", &no_members)
                .unwrap()
                .line,
            3
        );
        assert!(rules
            .decide(lan, false, "other", "app", &no_members)
            .is_none());
        assert_eq!(
            rules
                .decide(lan, false, "custos", "Bad Guy", &no_members)
                .unwrap()
                .method,
            Method::Reject
        );
        assert!(rules.decide(ten, false, "custos", "ann", &member).is_none());
        assert_eq!(
            rules
                .decide(ten, true, "custos", "ann", &member)
                .unwrap()
                .line,
            2
        );
        assert!(rules.decide(ten, true, "custos", "bob", &member).is_none());
        let v6: IpAddr = "::1".parse().unwrap();
        assert_eq!(
            rules
                .decide(v6, false, "custos", "x", &no_members)
                .unwrap()
                .line,
            6
        );
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(
            rules
                .decide(mapped, false, "custos", "x", &no_members)
                .unwrap()
                .method,
            Method::Trust
        );
    }

    #[test]
    fn trust_needs_permission_and_loopback() {
        assert!(HbaRules::parse("host all all 127.0.0.1/32 trust", false).is_err());
        assert!(HbaRules::parse("host all all 0.0.0.0/0 trust", true).is_err());
        assert!(HbaRules::parse("host all all 127.0.0.0/7 trust", true).is_err());
        assert!(HbaRules::parse("host all all all trust", true).is_err());
        assert!(HbaRules::parse("host all all ::1/128 trust", true).is_ok());
    }

    #[test]
    fn malformed_lines_name_their_line() {
        for bad in [
            "host all all",
            "host all all 10.0.0.0/33 reject",
            "host all all example.com reject",
            "host all all 10.0.0.0/8 password",
            "host all all 10.0.0.0/8 scram-sha-256 clientcert=verify-full",
            "hostgssenc all all 10.0.0.0/8 reject",
            "host all all samehost reject",
            "host all all 10.0.0.0 255.0.255.0 reject",
            "host \"unterminated all 10.0.0.0/8 reject",
        ] {
            let error = HbaRules::parse(&format!("\n{bad}"), true).unwrap_err();
            assert!(error.starts_with("line 2:"), "{bad}: {error}");
        }
    }

    #[test]
    fn local_lines_never_match_tcp() {
        let rules =
            HbaRules::parse("local all all trust\nhost all all 0.0.0.0/0 reject", true).unwrap();
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(
            rules
                .decide(local, false, "custos", "u", &no_members)
                .unwrap()
                .method,
            Method::Reject
        );
    }
}
