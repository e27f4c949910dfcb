//! The playbook: one TOML document holding everything an organisation
//! decides about the PM–sales relationship — the PM charter, the sales
//! process model, the engagement catalog, the rules, the signals, and test
//! cases for the rules.
//!
//! [`Playbook::parse`] reads and checks a playbook in one go: TOML syntax,
//! unknown keys, duplicate ids, references to stages, types and charter
//! clauses, threshold ranges, and every rule condition and message against
//! its record kind's schema. Everything found is reported at once, each
//! finding located (file, line, column) and tied to the item at fault.

mod diag;
mod metric;
mod raw;
pub mod show;
pub mod testing;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;

use chrono::Weekday;
use serde::{Deserialize, Serialize};
use toml::Spanned;

pub use diag::{Diagnostic, PlaybookError, Severity, Source, named_source};
pub use metric::{Metric, MetricInfo, SubjectKind, Unit};

use crate::charter::{Accountability, Charter};
use crate::id::{ClauseId, EngagementTypeId, RuleId, SignalId, StageId};
use crate::people::Role;
use crate::record::RecordKind;
use crate::request::{Category, Purpose};
use crate::rules::Effect;
use crate::rules::condition::Condition;
use crate::rules::input::{AccessInput, CommitmentInput, Input, MeetingInput, RequestInput};
use crate::rules::template::Template;
use crate::signal::Direction;

/// The default playbook: the essay's rules of engagement.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// How PMs are engaged at a stage of the sales process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PmEngagement {
    /// PMs are not engaged at this stage.
    None,
    /// A rep may ask for a PM.
    OnRequest,
    /// A PM is expected to take part.
    Expected,
}

impl PmEngagement {
    /// The name as written in playbooks.
    pub fn as_str(self) -> &'static str {
        match self {
            PmEngagement::None => "none",
            PmEngagement::OnRequest => "on_request",
            PmEngagement::Expected => "expected",
        }
    }
}

/// A stage of the sales process model.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    /// Its id (`discovery`).
    pub id: StageId,
    /// Its name.
    pub name: String,
    /// Its position in the process.
    pub order: i64,
    /// How PMs are engaged here.
    pub engagement: PmEngagement,
    /// The engagement types that fit here.
    pub allowed_types: Vec<EngagementTypeId>,
    /// The same, as text, for conditions.
    pub allowed_type_names: Vec<String>,
    /// What is expected of the PM here (empty: a gap in the model).
    pub expectation: String,
    /// What the PM delivers here, if anything specific.
    pub deliverable: Option<String>,
}

impl Stage {
    /// Whether the model leaves PM engagement here undefined: no
    /// engagement, or engagement without a stated expectation.
    pub fn is_gap(&self) -> bool {
        self.engagement == PmEngagement::None || self.expectation.trim().is_empty()
    }

    /// Whether the stage allows a type.
    pub fn allows(&self, ty: &EngagementTypeId) -> bool {
        self.allowed_types.contains(ty)
    }
}

/// A kind of help a PM can be asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct EngagementType {
    /// Its id (`roadmap-briefing`).
    pub id: EngagementTypeId,
    /// Its name.
    pub name: String,
    /// Clarification, direction or vision.
    pub purpose: Purpose,
    /// Product work or sales support.
    pub category: Category,
    /// Where it should go instead (`sales_engineering`, `sales_ops`, or
    /// another type's id).
    pub redirect_to: Option<String>,
    /// What it is.
    pub description: String,
}

/// A rule: a condition over one record kind, with an effect.
#[derive(Debug)]
pub struct Rule {
    /// Its id (`owner-present`).
    pub id: RuleId,
    /// The record kind it applies to.
    pub applies_to: RecordKind,
    /// When it matches.
    pub condition: Condition,
    /// What it does then.
    pub effect: Effect,
    /// The message, checked.
    pub message: Template,
    /// The message as written.
    pub message_text: String,
    /// The charter clause it cites.
    pub cites: Option<ClauseId>,
    /// Who may grant an exception to it.
    pub approver: Role,
    /// A longer explanation, if given.
    pub description: Option<String>,
}

/// A signal: a metric measured per subject over a window, with thresholds.
#[derive(Clone, Debug, PartialEq)]
pub struct SignalDef {
    /// Its id (`restricted-access`).
    pub id: SignalId,
    /// Its name.
    pub name: String,
    /// What it watches for.
    pub description: String,
    /// The built-in metric.
    pub metric: Metric,
    /// What it is measured for.
    pub subject: SubjectKind,
    /// The window, in days.
    pub window_days: u32,
    /// Worth a look from here.
    pub watch: f64,
    /// Time to act from here.
    pub act: f64,
    /// Below this sample size the status is `insufficient_data`.
    pub min_sample: f64,
    /// Which way it goes bad.
    pub direction: Direction,
    /// The leaders alerted when it reaches `act`.
    pub alert: Vec<Role>,
}

/// Organisation-wide settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// A briefing or agenda shorter than this (in characters) counts as
    /// none.
    pub min_briefing_chars: usize,
    /// The business days of the week.
    pub workweek: Vec<Weekday>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            min_briefing_chars: 40,
            workweek: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
        }
    }
}

/// A test case: a record, and what the rules should say about it.
#[derive(Clone, Debug, PartialEq)]
pub struct TestCase {
    /// 1-based position among the tests.
    pub number: usize,
    /// Its name (or `test N`).
    pub name: String,
    /// The record.
    pub input: Input,
    /// Rules with an approved exception for the record.
    pub exceptions: Vec<RuleId>,
    /// The expected overall effect.
    pub expect: Effect,
    /// The rules expected to match, exactly.
    pub rules: Vec<RuleId>,
    /// Where it is written.
    pub span: Range<usize>,
}

/// A checked, compiled playbook.
#[derive(Debug)]
pub struct Playbook {
    /// Its name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// The PM charter.
    pub charter: Charter,
    /// Organisation-wide settings.
    pub settings: Settings,
    /// The sales process model, in stage order.
    pub stages: Vec<Stage>,
    /// The engagement catalog.
    pub engagement_types: Vec<EngagementType>,
    /// The rules, in the order written.
    pub rules: Vec<Rule>,
    /// The signals.
    pub signals: Vec<SignalDef>,
    /// The test cases.
    pub tests: Vec<TestCase>,
    /// What deserves a look but does not stop the playbook.
    pub warnings: Vec<Diagnostic>,
    source: Source,
}

impl fmt::Display for Playbook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} stages, {} engagement types, {} rules, {} signals, {} tests)",
            self.name,
            self.stages.len(),
            self.engagement_types.len(),
            self.rules.len(),
            self.signals.len(),
            self.tests.len()
        )
    }
}

impl Playbook {
    /// The default playbook, shipped in the binary.
    ///
    /// A test proves it parses, so failing here would be a build defect,
    /// not bad input; still, rather than panic, an unparsable default
    /// degrades to an empty model with the diagnostics as warnings.
    pub fn default_playbook() -> Playbook {
        match Playbook::parse("default.toml", DEFAULT_TOML) {
            Ok(p) => p,
            Err(e) => {
                Playbook::empty_with(Source::new("default.toml", DEFAULT_TOML), e.diagnostics)
            }
        }
    }

    fn empty_with(source: Source, warnings: Vec<Diagnostic>) -> Playbook {
        Playbook {
            name: "empty".into(),
            description: String::new(),
            charter: Charter {
                mission: String::new(),
                accountabilities: vec![],
                required_endorsements: vec![],
            },
            settings: Settings::default(),
            stages: vec![],
            engagement_types: vec![],
            rules: vec![],
            signals: vec![],
            tests: vec![],
            warnings,
            source,
        }
    }

    /// The text it was read from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The TOML text.
    pub fn text(&self) -> &str {
        self.source.text()
    }

    /// A stage by id.
    pub fn stage(&self, id: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.id.as_str() == id)
    }

    /// An engagement type by id.
    pub fn engagement_type(&self, id: &str) -> Option<&EngagementType> {
        self.engagement_types.iter().find(|t| t.id.as_str() == id)
    }

    /// A rule by id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id.as_str() == id)
    }

    /// A signal by id.
    pub fn signal(&self, id: &str) -> Option<&SignalDef> {
        self.signals.iter().find(|s| s.id.as_str() == id)
    }

    /// The rules that apply to a record kind, in order.
    pub fn rules_for(&self, kind: RecordKind) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(move |r| r.applies_to == kind)
    }

    /// Reads and checks a playbook. `name` is what diagnostics call the
    /// file. On success, warnings are in [`Playbook::warnings`]; on failure
    /// the error holds every error and warning found.
    pub fn parse(name: &str, text: &str) -> Result<Playbook, PlaybookError> {
        let source = Source::new(name, text);
        let raw: raw::RawPlaybook = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                return Err(PlaybookError {
                    diagnostics: vec![toml_diagnostic(&source, &e, None)],
                });
            }
        };
        let mut v = Validator {
            source: source.clone(),
            diags: Vec::new(),
            declared_rules: raw
                .rules
                .iter()
                .map(|r| r.get_ref().id.get_ref().clone())
                .collect(),
        };
        let playbook = v.build(raw);
        let (mut errors, warnings): (Vec<_>, Vec<_>) = v
            .diags
            .into_iter()
            .partition(|d| d.severity == Severity::Error);
        if errors.is_empty() {
            Ok(Playbook {
                warnings,
                ..playbook
            })
        } else {
            sort_by_position(&mut errors);
            errors.extend(warnings);
            Err(PlaybookError {
                diagnostics: errors,
            })
        }
    }
}

fn sort_by_position(diags: &mut [Diagnostic]) {
    diags.sort_by_key(|d| d.span.as_ref().map(|s| s.start).unwrap_or(usize::MAX));
}

/// Turns a TOML (or serde) error into a located diagnostic; `offset` shifts
/// spans of errors found in a fragment of the file.
fn toml_diagnostic(source: &Source, e: &toml::de::Error, offset: Option<usize>) -> Diagnostic {
    let span = e
        .span()
        .map(|s| s.start + offset.unwrap_or(0)..s.end + offset.unwrap_or(0));
    let message = e.message().trim().to_owned();
    let (code, help) = if message.starts_with("unknown field") {
        (
            "playbook::unknown-key",
            Some(
                "check the spelling; `accord playbook default` prints a complete playbook to start from",
            ),
        )
    } else if message.starts_with("missing field") {
        ("playbook::missing-key", None)
    } else if message.starts_with("unknown variant") || message.starts_with("invalid type") {
        ("playbook::invalid-value", None)
    } else {
        ("playbook::toml", None)
    };
    let d = Diagnostic::error(source, code, span, message);
    match help {
        Some(h) => d.help(h),
        None => d,
    }
}

struct Validator {
    source: Source,
    diags: Vec<Diagnostic>,
    /// Every rule id written, compiled or not: a test naming a rule that
    /// failed to compile is not reported again (the rule's error says it).
    declared_rules: BTreeSet<String>,
}

fn span_of<T>(s: &Spanned<T>) -> Option<Range<usize>> {
    let r = s.span();
    (r.end > r.start).then_some(r)
}

impl Validator {
    fn error(
        &mut self,
        code: &'static str,
        span: Option<Range<usize>>,
        item: &str,
        msg: impl Into<String>,
    ) -> &mut Diagnostic {
        let mut d = Diagnostic::error(&self.source, code, span, msg);
        if !item.is_empty() {
            d = d.item(item);
        }
        self.diags.push(d);
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    fn warn(
        &mut self,
        code: &'static str,
        span: Option<Range<usize>>,
        item: &str,
        msg: impl Into<String>,
    ) -> &mut Diagnostic {
        let mut d = Diagnostic::warning(&self.source, code, span, msg);
        if !item.is_empty() {
            d = d.item(item);
        }
        self.diags.push(d);
        let last = self.diags.len() - 1;
        &mut self.diags[last]
    }

    /// Parses an id; reports a malformed one.
    fn id<T>(
        &mut self,
        raw: &Spanned<String>,
        what: &str,
        parse: fn(&str) -> Result<T, crate::id::InvalidValue>,
    ) -> Option<T> {
        match parse(raw.get_ref()) {
            Ok(id) => Some(id),
            Err(e) => {
                let why = e.why;
                self.error(
                    "playbook::invalid-id",
                    span_of(raw),
                    what,
                    format!("{:?} is not a valid id: {why}", raw.get_ref()),
                );
                None
            }
        }
    }

    /// Reports a second use of an id.
    fn unique(
        &mut self,
        seen: &mut BTreeMap<String, Range<usize>>,
        raw: &Spanned<String>,
        what: &str,
    ) {
        if let Some(first) = seen.get(raw.get_ref()) {
            let (line, col) = self.source.line_col(first.start);
            let item = format!("{what} {}", raw.get_ref());
            self.error(
                "playbook::duplicate-id",
                span_of(raw),
                &item,
                format!(
                    "duplicate {what} id {:?}: it is already used at line {line}, column {col}",
                    raw.get_ref()
                ),
            )
            .help = Some(format!("give each {what} its own id"));
        } else {
            seen.insert(raw.get_ref().clone(), raw.span());
        }
    }

    fn build(&mut self, raw: raw::RawPlaybook) -> Playbook {
        let charter = self.charter(raw.charter);
        let clause_ids: BTreeSet<String> = charter
            .accountabilities
            .iter()
            .map(|a| a.id.to_string())
            .collect();
        let settings = self.settings(raw.settings);
        let engagement_types = self.types(raw.engagement_types);
        let type_ids: BTreeSet<String> =
            engagement_types.iter().map(|t| t.id.to_string()).collect();
        let stages = self.stages(raw.stages, &type_ids);
        let rules = self.rules(raw.rules, &clause_ids);
        let signals = self.signals(raw.signals);
        let mut playbook = Playbook {
            name: raw.name.unwrap_or_else(|| "playbook".into()),
            description: raw.description.unwrap_or_default(),
            charter,
            settings,
            stages,
            engagement_types,
            rules,
            signals,
            tests: Vec::new(),
            warnings: Vec::new(),
            source: self.source.clone(),
        };
        playbook.tests = self.tests(raw.tests, &playbook);
        playbook
    }

    fn charter(&mut self, raw: Spanned<raw::RawCharter>) -> Charter {
        let span = span_of(&raw);
        let raw = raw.into_inner();
        if raw.mission.get_ref().trim().is_empty() {
            self.error(
                "playbook::empty",
                span_of(&raw.mission),
                "charter",
                "the charter's mission is empty",
            )
            .help = Some("say in a sentence or two what product management is for here".into());
        }
        let mut seen = BTreeMap::new();
        let mut accountabilities = Vec::new();
        for a in raw.accountabilities {
            let a = a.into_inner();
            self.unique(&mut seen, &a.id, "accountability");
            if let Some(id) = self.id(&a.id, "charter accountability", ClauseId::parse) {
                accountabilities.push(Accountability {
                    id,
                    title: a.title,
                    text: a.text,
                });
            }
        }
        if accountabilities.is_empty() {
            self.warn(
                "playbook::empty",
                span.clone(),
                "charter",
                "the charter lists no accountabilities",
            )
            .help = Some("add [[charter.accountabilities]] with an id, a title and a text".into());
        }
        let mut required = Vec::new();
        let mut seen_fn = BTreeSet::new();
        for f in raw.required_endorsements {
            let name = f.get_ref().trim().to_lowercase();
            if name.is_empty() {
                self.error(
                    "playbook::empty",
                    span_of(&f),
                    "charter",
                    "an empty function name in required_endorsements",
                );
            } else if !seen_fn.insert(name.clone()) {
                self.error(
                    "playbook::duplicate-id",
                    span_of(&f),
                    "charter",
                    format!("{name:?} is listed twice in required_endorsements"),
                );
            } else {
                required.push(name);
            }
        }
        Charter {
            mission: raw.mission.into_inner(),
            accountabilities,
            required_endorsements: required,
        }
    }

    fn settings(&mut self, raw: raw::RawSettings) -> Settings {
        let mut s = Settings::default();
        let min = *raw.min_briefing_chars.get_ref();
        if !(0..=10_000).contains(&min) {
            self.error(
                "playbook::out-of-range",
                span_of(&raw.min_briefing_chars),
                "settings",
                format!("min_briefing_chars must be between 0 and 10000, not {min}"),
            );
        } else {
            s.min_briefing_chars = min as usize;
        }
        if let Some(days) = raw.workweek {
            let mut week = Vec::new();
            for d in days {
                match d.get_ref().parse::<Weekday>() {
                    Ok(w) if !week.contains(&w) => week.push(w),
                    Ok(_) => {
                        self.error(
                            "playbook::duplicate-id",
                            span_of(&d),
                            "settings",
                            format!("{:?} is listed twice in workweek", d.get_ref()),
                        );
                    }
                    Err(_) => {
                        self.error(
                            "playbook::invalid-value",
                            span_of(&d),
                            "settings",
                            format!("{:?} is not a day of the week", d.get_ref()),
                        )
                        .help = Some("use mon, tue, wed, thu, fri, sat, sun".into());
                    }
                }
            }
            if week.is_empty() {
                self.error(
                    "playbook::empty",
                    None,
                    "settings",
                    "workweek has no business days",
                );
            } else {
                s.workweek = week;
            }
        }
        s
    }

    fn types(&mut self, raw: Vec<Spanned<raw::RawType>>) -> Vec<EngagementType> {
        let mut seen = BTreeMap::new();
        let mut out = Vec::new();
        let all_ids: BTreeSet<String> = raw
            .iter()
            .map(|t| t.get_ref().id.get_ref().clone())
            .collect();
        if raw.is_empty() {
            self.error("playbook::empty", None, "", "the playbook has no [[engagement_types]]: a rep would have nothing to ask a PM for");
        }
        for t in raw {
            let t = t.into_inner();
            self.unique(&mut seen, &t.id, "engagement type");
            let item = format!("engagement type {}", t.id.get_ref());
            let Some(id) = self.id(&t.id, &item, EngagementTypeId::parse) else {
                continue;
            };
            let redirect_to = match t.redirect_to {
                Some(r) => {
                    let target = r.get_ref().trim().to_owned();
                    let known = ["sales_engineering", "sales_ops"].contains(&target.as_str())
                        || all_ids.contains(&target);
                    if !known {
                        self.error("playbook::unknown-reference", span_of(&r), &item, format!("redirect_to {target:?} is neither sales_engineering, sales_ops nor an engagement type"));
                    } else if target == *t.id.get_ref() {
                        self.error(
                            "playbook::invalid-value",
                            span_of(&r),
                            &item,
                            "an engagement type cannot redirect to itself",
                        );
                    }
                    Some(target)
                }
                None => None,
            };
            out.push(EngagementType {
                id,
                name: t.name,
                purpose: t.purpose,
                category: t.category,
                redirect_to,
                description: t.description.unwrap_or_default(),
            });
        }
        out
    }

    fn stages(
        &mut self,
        raw: Vec<Spanned<raw::RawStage>>,
        type_ids: &BTreeSet<String>,
    ) -> Vec<Stage> {
        if raw.is_empty() {
            self.error(
                "playbook::empty",
                None,
                "",
                "the playbook has no [[stages]]: the sales process model is empty",
            );
        }
        let mut seen = BTreeMap::new();
        let mut orders: BTreeMap<i64, String> = BTreeMap::new();
        let mut out = Vec::new();
        for st in raw {
            let st = st.into_inner();
            self.unique(&mut seen, &st.id, "stage");
            let item = format!("stage {}", st.id.get_ref());
            let order = *st.order.get_ref();
            if let Some(other) = orders.get(&order) {
                self.error(
                    "playbook::duplicate-id",
                    span_of(&st.order),
                    &item,
                    format!("order {order} is already the order of stage {other:?}"),
                );
            } else {
                orders.insert(order, st.id.get_ref().clone());
            }
            let mut allowed = Vec::new();
            for t in &st.allowed_types {
                if !type_ids.contains(t.get_ref()) {
                    let known: Vec<&str> = type_ids.iter().map(String::as_str).collect();
                    self.error(
                        "playbook::unknown-reference",
                        span_of(t),
                        &item,
                        format!("unknown engagement type {:?}", t.get_ref()),
                    )
                    .help = Some(format!("the catalog has: {}", known.join(", ")));
                } else if let Ok(id) = EngagementTypeId::parse(t.get_ref()) {
                    if allowed.contains(&id) {
                        self.error(
                            "playbook::duplicate-id",
                            span_of(t),
                            &item,
                            format!("{:?} is listed twice", t.get_ref()),
                        );
                    } else {
                        allowed.push(id);
                    }
                }
            }
            if st.pm_engagement == PmEngagement::None && !st.allowed_types.is_empty() {
                let span = st.allowed_types.first().and_then(span_of);
                self.error("playbook::contradiction", span, &item, "the stage says PMs are not engaged (pm_engagement = \"none\") but allows engagement types")
                    .help = Some("set pm_engagement to \"on_request\" or \"expected\", or empty allowed_types".into());
            }
            let expectation = st.expectation.unwrap_or_default();
            if st.pm_engagement != PmEngagement::None && expectation.trim().is_empty() {
                self.warn("playbook::model-gap", span_of(&st.id), &item, "PMs are engaged here but nothing says what is expected of them: a gap in the sales process model")
                    .help = Some("add an expectation: the PM's role and deliverable at this stage".into());
            }
            if st.pm_engagement != PmEngagement::None
                && allowed.is_empty()
                && st.allowed_types.is_empty()
            {
                self.warn(
                    "playbook::model-gap",
                    span_of(&st.id),
                    &item,
                    "PMs are engaged here but no engagement type is allowed",
                );
            }
            let Some(id) = self.id(&st.id, &item, StageId::parse) else {
                continue;
            };
            out.push(Stage {
                id,
                name: st.name,
                order,
                engagement: st.pm_engagement,
                allowed_type_names: allowed.iter().map(ToString::to_string).collect(),
                allowed_types: allowed,
                expectation,
                deliverable: st.deliverable,
            });
        }
        out.sort_by_key(|s| s.order);
        out
    }

    /// Where a string value's content starts in the file: after its opening
    /// quote(s), and after the newline that TOML trims from a multi-line
    /// string. `None` when the literal has escapes that shift offsets.
    fn content_offset(&self, s: &Spanned<String>) -> Option<usize> {
        let span = s.span();
        let raw = self.source.text().get(span.clone())?;
        let (open, close) = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
            (3, 3)
        } else if raw.starts_with('"') || raw.starts_with('\'') {
            (1, 1)
        } else {
            return None;
        };
        let mut start = span.start + open;
        let inner = raw.get(open..raw.len().saturating_sub(close))?;
        let inner = if open == 3 {
            if let Some(rest) = inner.strip_prefix("\r\n") {
                start += 2;
                rest
            } else if let Some(rest) = inner.strip_prefix('\n') {
                start += 1;
                rest
            } else {
                inner
            }
        } else {
            inner
        };
        (inner == s.get_ref()).then_some(start)
    }

    /// Maps a span inside a string value to a span of the file.
    fn inner_span(&self, s: &Spanned<String>, inner: Option<Range<usize>>) -> Option<Range<usize>> {
        match (self.content_offset(s), inner) {
            (Some(base), Some(r)) => Some(base + r.start..base + r.end),
            _ => span_of(s),
        }
    }

    fn rules(&mut self, raw: Vec<Spanned<raw::RawRule>>, clauses: &BTreeSet<String>) -> Vec<Rule> {
        let mut seen = BTreeMap::new();
        let mut out = Vec::new();
        for r in raw {
            let r = r.into_inner();
            self.unique(&mut seen, &r.id, "rule");
            let item = format!("rule {}", r.id.get_ref());
            let id = self.id(&r.id, &item, RuleId::parse);
            let effect = *r.effect.get_ref();
            if effect == Effect::Allow {
                self.error("playbook::invalid-value", span_of(&r.effect), &item, "a rule's effect is deny, exception, warn or audit (allow is what happens when no rule matches)");
            }
            let condition = match Condition::compile(r.applies_to, r.when.get_ref()) {
                Ok(c) => Some(c),
                Err(e) => {
                    let span = self.inner_span(&r.when, e.span.clone());
                    let d = self.error(
                        "playbook::condition",
                        span,
                        &item,
                        format!("in its condition: {}", e.message),
                    );
                    d.label = "here".into();
                    d.help = e.help;
                    None
                }
            };
            let message = match Template::parse(r.applies_to, r.message.get_ref()) {
                Ok(t) => Some(t),
                Err(e) => {
                    let span = self.inner_span(&r.message, Some(e.span.clone()));
                    self.error(
                        "playbook::message",
                        span,
                        &item,
                        format!("in its message: {}", e.message),
                    );
                    None
                }
            };
            let cites = match &r.cites {
                Some(c) if !clauses.contains(c.get_ref()) => {
                    let known: Vec<&str> = clauses.iter().map(String::as_str).collect();
                    self.error(
                        "playbook::unknown-reference",
                        span_of(c),
                        &item,
                        format!(
                            "cites {:?}, which is not an accountability of the charter",
                            c.get_ref()
                        ),
                    )
                    .help = Some(format!(
                        "the charter's accountabilities are: {}",
                        known.join(", ")
                    ));
                    None
                }
                Some(c) => ClauseId::parse(c.get_ref()).ok(),
                None => None,
            };
            if let (Some(id), Some(condition), Some(message)) = (id, condition, message) {
                out.push(Rule {
                    id,
                    applies_to: r.applies_to,
                    condition,
                    effect,
                    message,
                    message_text: r.message.into_inner(),
                    cites,
                    approver: r.approver.unwrap_or(Role::PmLead),
                    description: r.description,
                });
            }
        }
        out
    }

    fn signals(&mut self, raw: Vec<Spanned<raw::RawSignal>>) -> Vec<SignalDef> {
        let mut seen = BTreeMap::new();
        let mut out = Vec::new();
        for s in raw {
            let s = s.into_inner();
            self.unique(&mut seen, &s.id, "signal");
            let item = format!("signal {}", s.id.get_ref());
            let id = self.id(&s.id, &item, SignalId::parse);
            let metric = match s.metric.get_ref().parse::<Metric>() {
                Ok(m) => Some(m),
                Err(_) => {
                    let known: Vec<&str> = Metric::ALL.iter().map(|m| m.as_str()).collect();
                    self.error(
                        "playbook::unknown-reference",
                        span_of(&s.metric),
                        &item,
                        format!("unknown metric {:?}", s.metric.get_ref()),
                    )
                    .help = Some(format!("the built-in metrics are: {}", known.join(", ")));
                    None
                }
            };
            let subject = match s.subject.get_ref().parse::<SubjectKind>() {
                Ok(k) => Some(k),
                Err(e) => {
                    self.error(
                        "playbook::invalid-value",
                        span_of(&s.subject),
                        &item,
                        format!("unknown subject {:?}: {}", s.subject.get_ref(), e.why),
                    );
                    None
                }
            };
            if let (Some(m), Some(k)) = (metric, subject)
                && !m.info().subjects.contains(&k)
            {
                let ok: Vec<&str> = m.info().subjects.iter().map(|k| k.as_str()).collect();
                self.error(
                    "playbook::invalid-value",
                    span_of(&s.subject),
                    &item,
                    format!("{m} cannot be measured per {k}"),
                )
                .help = Some(format!("{m} is measured per {}", ok.join(", ")));
            }
            let window = *s.window_days.get_ref();
            if !(1..=3660).contains(&window) {
                self.error(
                    "playbook::out-of-range",
                    span_of(&s.window_days),
                    &item,
                    format!("window_days must be between 1 and 3660, not {window}"),
                );
            }
            let direction = s
                .direction
                .or(metric.map(|m| m.info().direction))
                .unwrap_or(Direction::Above);
            let (watch, act) = (*s.watch.get_ref(), *s.act.get_ref());
            let unit = metric.map(|m| m.info().unit);
            for (name, val, span) in [
                ("watch", watch, span_of(&s.watch)),
                ("act", act, span_of(&s.act)),
            ] {
                if !val.is_finite() {
                    self.error(
                        "playbook::out-of-range",
                        span,
                        &item,
                        format!("{name} must be a number"),
                    );
                } else if unit == Some(Unit::Rate) && !(0.0..=1.0).contains(&val) {
                    self.error(
                        "playbook::out-of-range",
                        span,
                        &item,
                        format!("{name} is a rate and must be between 0 and 1, not {val}"),
                    )
                    .help = Some("write 25% as 0.25".into());
                } else if val < 0.0 {
                    self.error(
                        "playbook::out-of-range",
                        span,
                        &item,
                        format!("{name} must not be negative"),
                    );
                }
            }
            match direction {
                Direction::Above if watch > act => {
                    self.error("playbook::threshold-order", span_of(&s.watch), &item, format!("watch ({watch}) must not exceed act ({act}): higher is worse for this signal"))
                        .help = Some("the watch threshold is the earlier warning: make it the smaller one".into());
                }
                Direction::Below if watch < act => {
                    self.error("playbook::threshold-order", span_of(&s.watch), &item, format!("watch ({watch}) must not be below act ({act}): lower is worse for this signal"))
                        .help = Some("the watch threshold is the earlier warning: make it the larger one".into());
                }
                _ => {}
            }
            let min_sample = s.min_sample.as_ref().map(|m| *m.get_ref()).unwrap_or(1.0);
            if !min_sample.is_finite() || min_sample < 0.0 {
                let span = s.min_sample.as_ref().and_then(span_of);
                self.error(
                    "playbook::out-of-range",
                    span,
                    &item,
                    "min_sample must be zero or more",
                );
            }
            let mut alert = Vec::new();
            for r in &s.alert {
                let role = *r.get_ref();
                if !role.is_leader() {
                    self.error(
                        "playbook::invalid-value",
                        span_of(r),
                        &item,
                        format!("alerts go to team leaders (sales_manager, pm_lead), not {role}"),
                    );
                } else if !alert.contains(&role) {
                    alert.push(role);
                }
            }
            if let (Some(id), Some(metric), Some(subject)) = (id, metric, subject) {
                out.push(SignalDef {
                    name: s.name.unwrap_or_else(|| id.to_string()),
                    id,
                    description: s.description.unwrap_or_default(),
                    metric,
                    subject,
                    window_days: window.clamp(1, 3660) as u32,
                    watch,
                    act,
                    min_sample,
                    direction,
                    alert,
                });
            }
        }
        out
    }

    fn tests(&mut self, raw: Vec<Spanned<raw::RawTest>>, playbook: &Playbook) -> Vec<TestCase> {
        let mut out = Vec::new();
        for (i, t) in raw.into_iter().enumerate() {
            let span = t.span();
            let t = t.into_inner();
            let number = i + 1;
            let name = t.name.clone().unwrap_or_else(|| format!("test {number}"));
            let item = format!("test {number} ({name})");
            let input = match self.test_input(t.kind, t.record.as_ref(), &item) {
                Some(i) => i,
                None => continue,
            };
            if let Input::Request(r) = &input {
                if playbook.engagement_type(&r.engagement_type).is_none() {
                    let span = t.record.as_ref().and_then(span_of);
                    self.error(
                        "playbook::unknown-reference",
                        span,
                        &item,
                        format!(
                            "the record's type {:?} is not in the catalog",
                            r.engagement_type
                        ),
                    );
                    continue;
                }
                if playbook.stage(&r.stage).is_none() {
                    let span = t.record.as_ref().and_then(span_of);
                    self.error(
                        "playbook::unknown-reference",
                        span,
                        &item,
                        format!(
                            "the record's stage {:?} is not in the sales process model",
                            r.stage
                        ),
                    );
                    continue;
                }
            }
            let mut broken = false;
            let mut ids = |list: &[Spanned<String>], this: &mut Self, what: &str| -> Vec<RuleId> {
                let mut v = Vec::new();
                for r in list {
                    match playbook.rule(r.get_ref()) {
                        Some(rule) if rule.applies_to == t.kind => v.push(rule.id.clone()),
                        None if this.declared_rules.contains(r.get_ref()) => broken = true,
                        Some(rule) => {
                            this.error(
                                "playbook::unknown-reference",
                                span_of(r),
                                &item,
                                format!(
                                    "{what} names rule {:?}, which applies to {}, not {}",
                                    r.get_ref(),
                                    rule.applies_to,
                                    t.kind
                                ),
                            );
                        }
                        None => {
                            this.error(
                                "playbook::unknown-reference",
                                span_of(r),
                                &item,
                                format!(
                                    "{what} names rule {:?}, which the playbook does not have",
                                    r.get_ref()
                                ),
                            );
                        }
                    }
                }
                v
            };
            let rules = ids(&t.rules, self, "rules");
            let exceptions = ids(&t.exceptions, self, "exceptions");
            if broken {
                continue;
            }
            out.push(TestCase {
                number,
                name,
                input,
                exceptions,
                expect: *t.expect.get_ref(),
                rules,
                span,
            });
        }
        out
    }

    fn test_input(
        &mut self,
        kind: RecordKind,
        record: Option<&Spanned<toml::Table>>,
        item: &str,
    ) -> Option<Input> {
        let Some(record) = record else {
            if kind == RecordKind::Request {
                self.error(
                    "playbook::missing-key",
                    None,
                    item,
                    "a request test needs a record with at least its type and stage",
                );
                return None;
            }
            return Some(match kind {
                RecordKind::Meeting => Input::Meeting(MeetingInput::default()),
                RecordKind::Commitment => Input::Commitment(CommitmentInput::default()),
                _ => Input::Access(AccessInput::default()),
            });
        };
        // Deserialize from the record's own text when we can, so that an
        // unknown or mistyped field is located precisely; otherwise from the
        // parsed table, located at the record.
        let span = record.span();
        let fragment = self.source.text().get(span.clone()).unwrap_or("");
        fn read<T: serde::de::DeserializeOwned>(
            fragment: &str,
            table: &toml::Table,
        ) -> Result<T, (toml::de::Error, bool)> {
            match toml::de::ValueDeserializer::parse(fragment) {
                Ok(de) => T::deserialize(de).map_err(|e| (e, true)),
                Err(_) => toml::Value::Table(table.clone())
                    .try_into::<T>()
                    .map_err(|e| (e, false)),
            }
        }
        let table = record.get_ref();
        let result = match kind {
            RecordKind::Request => read::<RequestInput>(fragment, table).map(Input::Request),
            RecordKind::Meeting => read::<MeetingInput>(fragment, table).map(Input::Meeting),
            RecordKind::Commitment => {
                read::<CommitmentInput>(fragment, table).map(Input::Commitment)
            }
            RecordKind::Access => read::<AccessInput>(fragment, table).map(Input::Access),
        };
        match result {
            Ok(i) => Some(i),
            Err((e, located)) => {
                let mut d = toml_diagnostic(&self.source, &e, Some(span.start));
                if !located || d.span.is_none() {
                    d.span = Some(span);
                }
                d.message = format!("in its record: {}", d.message);
                self.diags.push(d.item(item));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_playbook_is_valid_and_complete() {
        let p = Playbook::parse("default.toml", DEFAULT_TOML).unwrap_or_else(|e| panic!("{e}"));
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        for stage in [
            "qualification",
            "discovery",
            "solution",
            "proposal",
            "negotiation",
            "closed",
            "renewal",
        ] {
            assert!(p.stage(stage).is_some(), "stage {stage}");
        }
        assert!(p.engagement_types.len() >= 8);
        assert!(
            p.engagement_types
                .iter()
                .any(|t| t.category == Category::Product)
        );
        assert!(
            p.engagement_types
                .iter()
                .any(|t| t.category == Category::SalesSupport)
        );
        for rule in [
            "stage-fit",
            "pm-not-sales-support",
            "owner-present",
            "commitment-owner-present",
            "commitment-approval",
            "no-ambush",
        ] {
            assert!(p.rule(rule).is_some(), "rule {rule}");
        }
        for signal in [
            "sales-support-share",
            "owner-presence",
            "restricted-access",
            "unapproved-commitments",
            "ambush-rate",
            "exception-rate",
            "pm-customer-exposure",
            "insight-capture",
            "model-gaps",
        ] {
            assert!(p.signal(signal).is_some(), "signal {signal}");
        }
        assert!(p.tests.len() >= 20);
        // Every effect a rule can have is used by at least one default rule.
        for effect in [Effect::Deny, Effect::Exception, Effect::Warn, Effect::Audit] {
            assert!(p.rules.iter().any(|r| r.effect == effect), "{effect}");
        }
    }

    #[test]
    fn every_default_rule_is_tested_both_ways() {
        let p = Playbook::default_playbook();
        for rule in &p.rules {
            let hit = p.tests.iter().any(|t| t.rules.contains(&rule.id));
            let miss = p
                .tests
                .iter()
                .any(|t| t.input.kind() == rule.applies_to && !t.rules.contains(&rule.id));
            assert!(
                hit && miss,
                "rule {} needs a test where it matches and one where it does not",
                rule.id
            );
        }
    }
}
