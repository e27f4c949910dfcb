//! Reading single CSV values: dates, amounts, Salesforce ids, and the
//! built-in value maps (stage names and job titles) of the known CRMs.

use accord_domain::people::Role;
use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// A key for forgiving comparisons of names people type: lower case,
/// letters and digits only, so that `Closed/Won`, `closed won` and
/// `Closed-Won` are one key.
pub(crate) fn norm_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Salesforce's standard opportunity stages (and a few common variants)
/// mapped to the default playbook's stages.
pub(crate) const SALESFORCE_STAGES: &[(&str, &str)] = &[
    ("Prospecting", "qualification"),
    ("Qualification", "qualification"),
    ("Needs Analysis", "discovery"),
    ("Discovery", "discovery"),
    ("Value Proposition", "solution"),
    ("Id. Decision Makers", "solution"),
    ("Perception Analysis", "solution"),
    ("Proposal/Price Quote", "proposal"),
    ("Proposal/Quote", "proposal"),
    ("Negotiation/Review", "negotiation"),
    ("Negotiation", "negotiation"),
    ("Closed Won", "closed"),
    ("Closed Lost", "closed"),
];

/// HubSpot's default sales pipeline, by internal name and by label (the
/// label normalises to the internal name, bar "Decision Maker Bought-In").
pub(crate) const HUBSPOT_STAGES: &[(&str, &str)] = &[
    ("appointmentscheduled", "qualification"),
    ("qualifiedtobuy", "discovery"),
    ("presentationscheduled", "solution"),
    ("decisionmakerboughtin", "proposal"),
    ("contractsent", "negotiation"),
    ("closedwon", "closed"),
    ("closedlost", "closed"),
];

/// Job titles to roles: phrases matched on whole words of the normalised
/// title, first match wins, so the more specific phrases come first
/// ("sales engineer" before "sales", "account manager" is a rep, not a
/// manager). Titles of other functions make constituents with that function.
const TITLE_RULES: &[(&[&str], Role, Option<&str>)] = &[
    (
        &[
            "head of product",
            "vp product",
            "vp of product",
            "vice president product",
            "vice president of product",
            "director of product",
            "product director",
            "director product management",
            "director of product management",
            "chief product officer",
            "cpo",
            "product lead",
            "lead product manager",
            "group product manager",
            "product management lead",
        ],
        Role::PmLead,
        None,
    ),
    (
        &[
            "product manager",
            "product owner",
            "product management",
            "pm",
        ],
        Role::Pm,
        None,
    ),
    (
        &[
            "sales engineer",
            "sales engineering",
            "solutions engineer",
            "solution engineer",
            "solutions consultant",
            "solution consultant",
            "solutions architect",
            "solution architect",
            "presales",
            "pre sales",
            "se",
        ],
        Role::SalesEngineer,
        None,
    ),
    (
        &[
            "revops",
            "revenue operations",
            "sales operations",
            "sales ops",
            "crm manager",
            "crm administrator",
            "salesforce administrator",
            "system administrator",
            "administrator",
            "admin",
        ],
        Role::Admin,
        None,
    ),
    (
        &[
            "sales manager",
            "head of sales",
            "sales director",
            "director of sales",
            "vp sales",
            "vp of sales",
            "vice president sales",
            "vice president of sales",
            "chief revenue officer",
            "cro",
            "sales lead",
            "sales team lead",
            "regional vice president",
            "rvp",
            "area vice president",
            "avp",
        ],
        Role::SalesManager,
        None,
    ),
    (
        &[
            "account executive",
            "account manager",
            "key account",
            "sales representative",
            "sales rep",
            "sales executive",
            "sales associate",
            "sales consultant",
            "sales specialist",
            "salesperson",
            "inside sales",
            "field sales",
            "business development",
            "sales development",
            "ae",
            "bdr",
            "sdr",
            "sales",
        ],
        Role::SalesRep,
        None,
    ),
    (
        &[
            "engineer",
            "engineering",
            "developer",
            "cto",
            "chief technology officer",
        ],
        Role::Constituent,
        Some("engineering"),
    ),
    (
        &["marketing", "cmo", "chief marketing officer"],
        Role::Constituent,
        Some("marketing"),
    ),
    (
        &["support", "customer success", "csm"],
        Role::Constituent,
        Some("support"),
    ),
];

/// The role (and, for constituents, the function) a job title suggests.
pub(crate) fn role_from_title(title: &str) -> Option<(Role, Option<&'static str>)> {
    let words: String = title
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect();
    let padded = format!(
        " {} ",
        words.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    if padded.trim().is_empty() {
        return None;
    }
    TITLE_RULES.iter().find_map(|(phrases, role, function)| {
        phrases
            .iter()
            .any(|p| padded.contains(&format!(" {p} ")))
            .then_some((*role, *function))
    })
}

/// Why a value could not be read: the message of the diagnostic.
pub(crate) type ValueError = String;

/// A monetary amount: digits with an optional sign and decimal point, and
/// optional thousands separators (`1,124,741.15`). Exponents, `NaN` and
/// anything else are refused: `12,5` could be twelve and a half or a typo,
/// and an import must not guess. With `decimal_comma` (a mapping's
/// `decimal_separator = ","`) the roles of `.` and `,` swap: `1.124.741,15`.
pub(crate) fn parse_amount(raw: &str, decimal_comma: bool) -> Result<f64, ValueError> {
    let swapped;
    let s = if decimal_comma {
        swapped = raw
            .trim()
            .chars()
            .map(|c| match c {
                '.' => ',',
                ',' => '.',
                c => c,
            })
            .collect::<String>();
        swapped.as_str()
    } else {
        raw.trim()
    };
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let int_ok = if int.contains(',') {
        let mut groups = int.split(',');
        let first_ok = groups
            .next()
            .is_some_and(|g| (1..=3).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit()));
        first_ok && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
    } else {
        !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit())
    };
    let frac_ok = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    if !int_ok || !frac_ok {
        return Err(if decimal_comma {
            "not an amount: expected a number such as 1250000 or 1.250.000,50".into()
        } else {
            "not an amount: expected a number such as 1250000 or 1,250,000.50".into()
        });
    }
    s.replace(',', "")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| "not an amount: the number is out of range".into())
}

/// Date-time layouts tried after a mapping's own `date_formats`: what
/// Salesforce (`2024-01-22T16:14:25.000+0000`), HubSpot (`2024-01-22 16:14`)
/// and ISO 8601 write. Values without an offset are UTC.
const BUILTIN_DATETIME_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];
const BUILTIN_DATE_FORMATS: &[&str] = &["%Y-%m-%d"];

/// A parsed date or date-time, before choosing what the field needs.
enum Moment {
    Instant(DateTime<Utc>, NaiveDate),
    Date(NaiveDate),
}

fn parse_moment(raw: &str, formats: &[String]) -> Option<Moment> {
    let s = raw.trim();
    let custom = formats.iter().map(String::as_str);
    for f in custom.clone() {
        if let Some(m) = parse_with(s, f) {
            return Some(m);
        }
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(Moment::Instant(dt.with_timezone(&Utc), dt.date_naive()));
    }
    BUILTIN_DATETIME_FORMATS
        .iter()
        .chain(BUILTIN_DATE_FORMATS)
        .find_map(|f| parse_with(s, f))
}

fn parse_with(s: &str, format: &str) -> Option<Moment> {
    if let Ok(dt) = DateTime::parse_from_str(s, format) {
        return Some(Moment::Instant(dt.with_timezone(&Utc), dt.date_naive()));
    }
    if let Ok(dt) = NaiveDateTime::parse_from_str(s, format) {
        return Some(Moment::Instant(dt.and_utc(), dt.date()));
    }
    NaiveDate::parse_from_str(s, format).ok().map(Moment::Date)
}

fn date_error(formats: &[String]) -> ValueError {
    let mut expected = String::from("2024-11-10, 2024-01-22T16:14:25.000+0000 or 2024-01-22 16:14");
    if !formats.is_empty() {
        expected = format!(
            "{} (the mapping's date_formats) or {expected}",
            formats.join(", ")
        );
    }
    format!("not a date: expected {expected}")
}

/// A point in time; a bare date is midnight UTC.
pub(crate) fn parse_datetime(raw: &str, formats: &[String]) -> Result<DateTime<Utc>, ValueError> {
    match parse_moment(raw, formats) {
        Some(Moment::Instant(t, _)) => Ok(t),
        Some(Moment::Date(d)) => Ok(d.and_time(chrono::NaiveTime::MIN).and_utc()),
        None => Err(date_error(formats)),
    }
}

/// A calendar date; a date-time gives its date as written.
pub(crate) fn parse_date(raw: &str, formats: &[String]) -> Result<NaiveDate, ValueError> {
    match parse_moment(raw, formats) {
        Some(Moment::Instant(_, d) | Moment::Date(d)) => Ok(d),
        None => Err(date_error(formats)),
    }
}

/// Whether a strftime format is one chrono understands.
pub(crate) fn valid_strftime(format: &str) -> bool {
    !format.trim().is_empty() && StrftimeItems::new(format).all(|i| !matches!(i, Item::Error))
}

/// Salesforce ids come in a case-sensitive 15-character form and a
/// case-insensitive 18-character form whose last three characters are a
/// checksum of the capitalisation of the first fifteen. Both name the same
/// record, so 15-character ids are extended to 18 (Salesforce's published
/// algorithm), and every id in accord is the 18-character one. `sf data
/// import tree` reference ids (`@AccountRef3`) lose their `@`.
pub(crate) fn salesforce_id(raw: &str) -> String {
    let s = raw.trim();
    if let Some(reference) = s.strip_prefix('@') {
        // A reference id names a record of the plan, not a Salesforce
        // record: `@OpportunityRef1` has 15 characters but no checksum.
        return reference.to_owned();
    }
    if s.len() == 15 && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
        let bytes = s.as_bytes();
        let mut out = String::with_capacity(18);
        out.push_str(s);
        for chunk in bytes.chunks(5) {
            let mut n = 0usize;
            for (i, b) in chunk.iter().enumerate() {
                if b.is_ascii_uppercase() {
                    n |= 1 << i;
                }
            }
            out.push(char::from(ALPHABET[n]));
        }
        return out;
    }
    if s.len() == 18 && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        // The checksum is upper case by construction; some tools lower-case
        // whole ids, which keeps the record but breaks string equality.
        let (id, sum) = s.split_at(15);
        return format!("{id}{}", sum.to_ascii_uppercase());
    }
    s.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_15_and_18_character_ids_are_one_id() {
        // Pairs as Salesforce prints them.
        assert_eq!(salesforce_id("001Ec00000GGw3h"), "001Ec00000GGw3hIAD");
        assert_eq!(salesforce_id("001Ec00000GGw3hIAD"), "001Ec00000GGw3hIAD");
        assert_eq!(salesforce_id("005Ec000004oBPN"), "005Ec000004oBPNIA2");
        assert_eq!(salesforce_id("006Ec00000AieKF"), "006Ec00000AieKFIAZ");
        assert_eq!(salesforce_id("001Ec00000GGw3hiad"), "001Ec00000GGw3hIAD");
        assert_eq!(salesforce_id("@AccountRef32"), "AccountRef32");
        assert_eq!(salesforce_id("@OpportunityRef1"), "OpportunityRef1");
        assert_eq!(salesforce_id(" x-1 "), "x-1");
    }

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("1124741.15", false), Ok(1_124_741.15));
        assert_eq!(parse_amount("1,124,741.15", false), Ok(1_124_741.15));
        assert_eq!(parse_amount("-5", false), Ok(-5.0));
        for bad in [
            "12,x", "12,5", "1e5", "NaN", "inf", "", "1.", ".5", "1,0000", "$5",
        ] {
            assert!(parse_amount(bad, false).is_err(), "{bad}");
        }
        assert_eq!(parse_amount("1.124.741,15", true), Ok(1_124_741.15));
        assert_eq!(parse_amount("12,5", true), Ok(12.5));
        assert!(parse_amount("12.5", true).is_err());
    }

    #[test]
    fn dates_of_the_known_exports() {
        let none: &[String] = &[];
        let t = parse_datetime("2024-01-22T16:14:25.000+0000", none).unwrap_or_default();
        assert_eq!(t.to_rfc3339(), "2024-01-22T16:14:25+00:00");
        let t = parse_datetime("2020-12-22T21:16:01Z", none).unwrap_or_default();
        assert_eq!(t.to_rfc3339(), "2020-12-22T21:16:01+00:00");
        let t = parse_datetime("2024-01-22 16:14", none).unwrap_or_default();
        assert_eq!(t.to_rfc3339(), "2024-01-22T16:14:00+00:00");
        assert_eq!(
            parse_date("2024-11-10", none).ok(),
            NaiveDate::from_ymd_opt(2024, 11, 10)
        );
        assert_eq!(
            parse_date("2020-12-22T21:16:01Z", none).ok(),
            NaiveDate::from_ymd_opt(2020, 12, 22)
        );
        let custom = vec!["%d.%m.%Y".to_owned()];
        assert_eq!(
            parse_date("03.02.2025", &custom).ok(),
            NaiveDate::from_ymd_opt(2025, 2, 3)
        );
        assert!(parse_date("yesterday", none).is_err());
        assert!(parse_date("2024-02-30", none).is_err());
    }

    #[test]
    fn titles() {
        let r = |t: &str| role_from_title(t).map(|(r, _)| r);
        assert_eq!(r("Senior Product Manager"), Some(Role::Pm));
        assert_eq!(r("VP of Product"), Some(Role::PmLead));
        assert_eq!(r("Account Executive, EMEA"), Some(Role::SalesRep));
        assert_eq!(r("Key Account Manager"), Some(Role::SalesRep));
        assert_eq!(r("Regional Sales Manager"), Some(Role::SalesManager));
        assert_eq!(r("Sales Operations Manager"), Some(Role::Admin));
        assert_eq!(r("Solutions Engineer"), Some(Role::SalesEngineer));
        assert_eq!(
            role_from_title("Software Engineer"),
            Some((Role::Constituent, Some("engineering")))
        );
        assert_eq!(r("Statistician I"), None);
        assert_eq!(r(""), None);
    }

    #[test]
    fn strftime_validation() {
        assert!(valid_strftime("%d.%m.%Y"));
        assert!(!valid_strftime("%Q"));
        assert!(!valid_strftime(""));
    }
}
