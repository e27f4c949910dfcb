//! Rule conditions in CEL — the only module that names the `cel` crate.
//!
//! A condition is parsed once, when the playbook loads, and then checked
//! against the schema of its record kind (`facts::schema`): every name must
//! be a declared variable or field, every operator and function must be
//! applied to types it accepts, and the whole must be a `bool`. The `cel`
//! crate has no type checker of its own, so this module carries a small one
//! over cel's AST; that is what lets `accord playbook check` refuse
//! `request.lead_tme_hours < 48` or `stage.order > "3"` before any record
//! arrives.
//!
//! Evaluation hands cel a resolver that serves fields straight from the
//! record's facts: no map is built per record, strings are borrowed.

mod english;

use std::ops::Range;
use std::sync::{Arc, LazyLock};

use cel::common::ast::{CallExpr, EntryExpr, Expr, IdedExpr, LiteralValue, operators};
use cel::common::traits::Indexer;
use cel::common::types::{CelBool, CelDouble, CelInt, CelList, CelString, DYN_TYPE, Type};
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use cel::{Context, Env, ExecutionError, Program, Value};

use crate::record::RecordKind;
use crate::rules::facts::{self, Fact, FactSource, FieldType, Var};

/// The environment every condition compiles and runs in: CEL's standard
/// library and its strings extension (`lowerAscii`, `trim`, `split`, ...).
static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| {
    let mut env = Env::stdlib();
    // Registering a built-in extension on a fresh environment cannot clash;
    // if a future cel release made it fail we would rather run without it
    // than refuse to start.
    let _ = env.add_extension(cel::extensions::strings);
    Arc::new(env)
});

/// Deeper expressions are refused: conditions are meant to be read.
const MAX_DEPTH: usize = 64;

/// Longer conditions are refused, for the same reason.
const MAX_LEN: usize = 4000;

/// Where brackets or prefix operators nest deeper than a reader (or cel's
/// recursive-descent parser, whose stack is the thread's) should follow.
fn too_deep(source: &str) -> Option<usize> {
    const LIMIT: usize = 32;
    let mut depth = 0usize;
    let mut prefix_run = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in source.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if c == '!' || c == '-' {
            prefix_run += 1;
        } else if !c.is_whitespace() {
            prefix_run = 0;
        }
        if depth > LIMIT || prefix_run > LIMIT {
            return Some(i);
        }
    }
    None
}

/// A compiled, type-checked condition.
#[derive(Debug)]
pub struct Condition {
    program: Program,
    /// The checked expression rewritten for speed (see `optimize`).
    eval: IdedExpr,
    kind: RecordKind,
    source: String,
}

/// Why a condition was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionError {
    /// What is wrong.
    pub message: String,
    /// Where, as a byte range of the condition's text.
    pub span: Option<Range<usize>>,
    /// What to do about it.
    pub help: Option<String>,
}

impl ConditionError {
    fn at(span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            span,
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl Condition {
    /// Parses and checks `source` as a condition on `kind` records.
    pub fn compile(kind: RecordKind, source: &str) -> Result<Self, ConditionError> {
        if source.trim().is_empty() {
            return Err(ConditionError::at(None, "the condition is empty")
                .help("write an expression that is true when the rule applies, e.g. `!meeting.owner_present`"));
        }
        if source.len() > MAX_LEN {
            return Err(ConditionError::at(
                None,
                format!("the condition is longer than {MAX_LEN} characters"),
            )
            .help("split it into several rules"));
        }
        if let Some(at) = too_deep(source) {
            return Err(
                ConditionError::at(Some(at..at + 1), "the condition is nested too deeply")
                    .help("write it flatter, or split it into several rules"),
            );
        }
        let program = ENV.compile(source).map_err(|errs| {
            let first = errs.errors.first();
            let span = first.and_then(|e| line_col_to_span(source, e.pos.0, e.pos.1));
            let msg = first
                .map(|e| e.msg.clone())
                .unwrap_or_else(|| "the condition does not parse".to_owned());
            ConditionError::at(span, format!("syntax error: {msg}"))
        })?;
        let checker = Checker {
            kind,
            program: &program,
            source,
        };
        let ty = checker.check(program.expression(), &mut Vec::new(), 0)?;
        if !matches!(ty, Ty::Bool | Ty::Dyn) {
            return Err(ConditionError::at(
                checker.span(program.expression().id),
                format!(
                    "a condition must be true or false, but this is {}",
                    ty.name()
                ),
            )
            .help("compare it with something, e.g. `x == \"value\"` or `x > 3`"));
        }
        let eval = optimize(kind, program.expression(), &mut Vec::new());
        Ok(Self {
            program,
            eval,
            kind,
            source: source.to_owned(),
        })
    }

    /// The condition as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The record kind it applies to.
    pub fn kind(&self) -> RecordKind {
        self.kind
    }

    /// The condition in plain English, for people who do not read CEL:
    /// `!meeting.owner_present && meeting.pm_present` reads "the account's
    /// relationship owner does not attend, and at least one PM or PM lead
    /// attends". Parts it cannot phrase are quoted as written.
    pub fn describe(&self) -> String {
        english::describe(
            self.kind,
            self.program.expression(),
            &self.source,
            self.program.source_info(),
        )
    }

    /// Whether the condition holds for `facts`.
    pub fn eval(&self, facts: &dyn FactSource) -> Result<bool, String> {
        with_scope(facts, |scope| self.eval_in(scope))
    }

    /// Whether the condition holds in a scope opened with [`with_scope`]:
    /// several conditions on one record share one scope.
    pub fn eval_in(&self, scope: &Scope<'_, '_>) -> Result<bool, String> {
        match Value::resolve_val(&self.eval, scope.ctx) {
            Ok(v) => match v.downcast_ref::<CelBool>() {
                Some(b) => Ok(*b.inner()),
                None => Err(format!(
                    "the condition gave a {}, not true or false",
                    v.get_type().name()
                )),
            },
            Err(e) => Err(e.to_string()),
        }
    }
}

/// The evaluation scope of one record's facts.
pub struct Scope<'c, 'f> {
    ctx: &'c Context<'c, 'f>,
}

impl std::fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scope")
    }
}

/// Opens a scope over `facts` and runs `f` in it.
pub fn with_scope<R>(facts: &dyn FactSource, f: impl FnOnce(&Scope<'_, '_>) -> R) -> R {
    let resolver = Resolver { facts };
    let mut ctx = Context::with_env(Arc::clone(&ENV));
    ctx.set_variable_resolver(&resolver);
    f(&Scope { ctx: &ctx })
}

/// Byte range of a 1-based (line, column) in `source`, one character wide.
fn line_col_to_span(source: &str, line: isize, col: isize) -> Option<Range<usize>> {
    if line < 1 || col < 0 {
        return None;
    }
    let line_start: usize = source
        .split_inclusive('\n')
        .take((line - 1) as usize)
        .map(str::len)
        .sum();
    let rest = source.get(line_start..)?;
    let col = col.max(1) as usize - 1;
    let start = rest
        .char_indices()
        .nth(col)
        .map(|(i, _)| line_start + i)
        .unwrap_or(source.len());
    let end = source[start..]
        .chars()
        .next()
        .map(|c| start + c.len_utf8())
        .unwrap_or(start);
    Some(start..end)
}

/// Byte range of a character range in `source` (cel's offsets count
/// characters).
fn char_range_to_span(source: &str, start: u32, stop: u32) -> Range<usize> {
    let byte = |ci: u32| {
        source
            .char_indices()
            .nth(ci as usize)
            .map(|(b, _)| b)
            .unwrap_or(source.len())
    };
    let s = byte(start);
    let e = byte(stop.max(start + 1)).max(s);
    s..e
}

// ---------------------------------------------------------------------------
// Static checking.

#[derive(Clone, Debug, PartialEq)]
enum Ty {
    Bool,
    Int,
    UInt,
    Double,
    Str,
    Bytes,
    Null,
    List(Box<Ty>),
    Map,
    Dyn,
    Var(&'static Var),
}

impl Ty {
    fn name(&self) -> String {
        match self {
            Ty::Bool => "a bool".into(),
            Ty::Int => "an int".into(),
            Ty::UInt => "a uint".into(),
            Ty::Double => "a double".into(),
            Ty::Str => "a string".into(),
            Ty::Bytes => "bytes".into(),
            Ty::Null => "null".into(),
            Ty::List(t) => match &**t {
                Ty::Dyn => "a list".into(),
                t => format!("a list of {}", t.plural()),
            },
            Ty::Map => "a map".into(),
            Ty::Dyn => "a value".into(),
            Ty::Var(v) => format!("`{}` (a record, use one of its fields)", v.name),
        }
    }

    fn plural(&self) -> &'static str {
        match self {
            Ty::Bool => "bools",
            Ty::Int => "ints",
            Ty::UInt => "uints",
            Ty::Double => "doubles",
            Ty::Str => "strings",
            _ => "values",
        }
    }

    fn from_field(t: FieldType) -> Ty {
        match t {
            FieldType::Bool => Ty::Bool,
            FieldType::Int => Ty::Int,
            FieldType::Double => Ty::Double,
            FieldType::String => Ty::Str,
            FieldType::StringList => Ty::List(Box::new(Ty::Str)),
        }
    }

    fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::UInt | Ty::Double)
    }

    /// Whether `==` between the two can ever be true.
    fn comparable(&self, other: &Ty) -> bool {
        match (self, other) {
            (Ty::Dyn, _) | (_, Ty::Dyn) | (Ty::Null, _) | (_, Ty::Null) => true,
            (a, b) if a.is_numeric() && b.is_numeric() => true,
            (Ty::List(a), Ty::List(b)) => a.comparable(b),
            (Ty::Var(_), _) | (_, Ty::Var(_)) => false,
            (a, b) => a == b,
        }
    }

    /// Whether the two can be ordered with `<`.
    fn orderable(&self, other: &Ty) -> bool {
        match (self, other) {
            (Ty::Dyn, t) | (t, Ty::Dyn) => {
                t.is_numeric() || matches!(t, Ty::Str | Ty::Bool | Ty::Bytes | Ty::Dyn)
            }
            (a, b) if a.is_numeric() && b.is_numeric() => true,
            (Ty::Str, Ty::Str) | (Ty::Bool, Ty::Bool) | (Ty::Bytes, Ty::Bytes) => true,
            _ => false,
        }
    }

    fn is(&self, want: &Ty) -> bool {
        self == want || *self == Ty::Dyn
    }
}

struct Checker<'p> {
    kind: RecordKind,
    program: &'p Program,
    source: &'p str,
}

type Locals = Vec<(String, Ty)>;

impl Checker<'_> {
    fn span(&self, id: u64) -> Option<Range<usize>> {
        self.program
            .source_info()
            .offset_for(id)
            .map(|(s, e)| char_range_to_span(self.source, s, e))
    }

    fn err(&self, e: &IdedExpr, message: impl Into<String>) -> ConditionError {
        ConditionError::at(self.span(e.id), message)
    }

    fn known_vars(&self) -> String {
        facts::schema(self.kind)
            .iter()
            .map(|v| v.name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn check(&self, e: &IdedExpr, scope: &mut Locals, depth: usize) -> Result<Ty, ConditionError> {
        if depth > MAX_DEPTH {
            return Err(self.err(e, "the condition is nested too deeply"));
        }
        let d = depth + 1;
        match &e.expr {
            Expr::Literal(lit) => Ok(match lit {
                LiteralValue::Boolean(_) => Ty::Bool,
                LiteralValue::Int(_) => Ty::Int,
                LiteralValue::UInt(_) => Ty::UInt,
                LiteralValue::Double(_) => Ty::Double,
                LiteralValue::String(_) => Ty::Str,
                LiteralValue::Bytes(_) => Ty::Bytes,
                LiteralValue::Null => Ty::Null,
            }),
            Expr::Ident(name) => {
                if let Some((_, t)) = scope.iter().rev().find(|(n, _)| n == name) {
                    return Ok(t.clone());
                }
                match facts::var(self.kind, name) {
                    Some(v) => Ok(Ty::Var(v)),
                    None => Err(self
                        .err(e, format!("unknown name `{name}` in a {} rule", self.kind))
                        .help(format!(
                            "a {} rule can use: {}",
                            self.kind,
                            self.known_vars()
                        ))),
                }
            }
            Expr::Select(sel) => {
                let operand = self.check(&sel.operand, scope, d)?;
                let ty = match operand {
                    Ty::Var(v) => match v.field(&sel.field) {
                        Some(f) => Ty::from_field(f.ty),
                        None => {
                            let fields: Vec<&str> = v.fields.iter().map(|f| f.name).collect();
                            // cel locates a selection at its dot: widen the
                            // span to cover the field name too.
                            let span = self.span(e.id).map(|s| {
                                if self.source.get(s.start..s.start + 1) == Some(".") {
                                    s.start..(s.start + 1 + sel.field.len()).min(self.source.len())
                                } else {
                                    s
                                }
                            });
                            return Err(ConditionError::at(
                                span,
                                format!("`{}` has no field `{}`", v.name, sel.field),
                            )
                            .help(format!(
                                "`{}` has: {}",
                                v.name,
                                fields.join(", ")
                            )));
                        }
                    },
                    Ty::Map | Ty::Dyn => Ty::Dyn,
                    other => {
                        return Err(self.err(
                            e,
                            format!("`.{}` cannot be read from {}", sel.field, other.name()),
                        ));
                    }
                };
                Ok(if sel.test { Ty::Bool } else { ty })
            }
            Expr::Call(call) => self.check_call(e, call, scope, d),
            Expr::List(list) => {
                let mut elem: Option<Ty> = None;
                for item in &list.elements {
                    let t = self.check(item, scope, d)?;
                    elem = Some(match elem {
                        None => t,
                        Some(prev) if prev == t => prev,
                        Some(_) => Ty::Dyn,
                    });
                }
                Ok(Ty::List(Box::new(elem.unwrap_or(Ty::Dyn))))
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(me) = &entry.expr {
                        self.check(&me.key, scope, d)?;
                        self.check(&me.value, scope, d)?;
                    }
                }
                Ok(Ty::Map)
            }
            Expr::Comprehension(c) => {
                let range = self.check(&c.iter_range, scope, d)?;
                let (v1, v2) = match (&range, &c.iter_var2) {
                    (Ty::List(t), None) => ((**t).clone(), None),
                    (Ty::List(t), Some(_)) => (Ty::Int, Some((**t).clone())),
                    (Ty::Map | Ty::Dyn, None) => (Ty::Dyn, None),
                    (Ty::Map | Ty::Dyn, Some(_)) => (Ty::Dyn, Some(Ty::Dyn)),
                    (other, _) => {
                        return Err(self.err(
                            &c.iter_range,
                            format!("only a list or a map can be iterated, not {}", other.name()),
                        ));
                    }
                };
                let accu = self.check(&c.accu_init, scope, d)?;
                let mark = scope.len();
                scope.push((c.iter_var.clone(), v1));
                if let (Some(name), Some(t)) = (&c.iter_var2, v2) {
                    scope.push((name.clone(), t));
                }
                scope.push((c.accu_var.clone(), accu));
                let result = (|| {
                    self.check(&c.loop_cond, scope, d)?;
                    let step = self.check(&c.loop_step, scope, d)?;
                    // The accumulator takes the step's type (e.g. a list
                    // that `map` fills), so check the result with it.
                    if let Some(slot) = scope.last_mut()
                        && slot.1 != step
                        && !matches!(step, Ty::Dyn)
                    {
                        slot.1 = step;
                    }
                    self.check(&c.result, scope, d)
                })();
                scope.truncate(mark);
                result
            }
            Expr::Struct(_) => Err(self.err(e, "message literals are not supported in conditions")),
            Expr::Unspecified => Err(self.err(e, "incomplete expression")),
        }
    }

    fn check_call(
        &self,
        e: &IdedExpr,
        call: &CallExpr,
        scope: &mut Locals,
        d: usize,
    ) -> Result<Ty, ConditionError> {
        let name = call.func_name.as_str();
        let target = match &call.target {
            Some(t) => Some(self.check(t, scope, d)?),
            None => None,
        };
        let mut args = Vec::with_capacity(call.args.len());
        for a in &call.args {
            args.push(self.check(a, scope, d)?);
        }
        let arity = |n: usize| -> Result<(), ConditionError> {
            if args.len() == n {
                Ok(())
            } else {
                Err(self.err(
                    e,
                    format!(
                        "`{}` takes {n} argument(s), not {}",
                        pretty(name),
                        args.len()
                    ),
                ))
            }
        };
        let mismatch = |what: String| -> ConditionError { self.err(e, what) };
        match (name, &target) {
            (operators::LOGICAL_AND | operators::LOGICAL_OR, None) => {
                arity(2)?;
                for (a, t) in call.args.iter().zip(&args) {
                    if !t.is(&Ty::Bool) {
                        return Err(self.err(
                            a,
                            format!("`{}` needs true/false on both sides, but this is {}", pretty(name), t.name()),
                        ));
                    }
                }
                Ok(Ty::Bool)
            }
            (operators::LOGICAL_NOT, None) => {
                arity(1)?;
                if !args[0].is(&Ty::Bool) {
                    return Err(mismatch(format!("`!` needs true/false, but this is {}", args[0].name())));
                }
                Ok(Ty::Bool)
            }
            (operators::NOT_STRICTLY_FALSE, None) => Ok(Ty::Bool),
            (operators::NEGATE, None) => {
                arity(1)?;
                match &args[0] {
                    t @ (Ty::Int | Ty::Double | Ty::Dyn) => Ok(t.clone()),
                    t => Err(mismatch(format!("`-` needs a number, but this is {}", t.name()))),
                }
            }
            (operators::EQUALS | operators::NOT_EQUALS, None) => {
                arity(2)?;
                if !args[0].comparable(&args[1]) {
                    return Err(mismatch(format!(
                        "{} is never equal to {}",
                        args[0].name(),
                        args[1].name()
                    ))
                    .help("compare values of the same type (strings are quoted: \"demo\")"));
                }
                Ok(Ty::Bool)
            }
            (
                operators::LESS
                | operators::LESS_EQUALS
                | operators::GREATER
                | operators::GREATER_EQUALS,
                None,
            ) => {
                arity(2)?;
                if !args[0].orderable(&args[1]) {
                    return Err(mismatch(format!(
                        "{} cannot be compared with {} using `{}`",
                        args[0].name(),
                        args[1].name(),
                        pretty(name)
                    )));
                }
                Ok(Ty::Bool)
            }
            (operators::ADD, None) => {
                arity(2)?;
                match (&args[0], &args[1]) {
                    (Ty::Dyn, t) | (t, Ty::Dyn) => Ok(t.clone()),
                    (Ty::List(a), Ty::List(b)) => Ok(if a == b {
                        Ty::List(a.clone())
                    } else {
                        Ty::List(Box::new(Ty::Dyn))
                    }),
                    (a, b) if a == b && matches!(a, Ty::Int | Ty::UInt | Ty::Double | Ty::Str | Ty::Bytes) => Ok(a.clone()),
                    (a, b) => Err(mismatch(format!("cannot add {} and {}", a.name(), b.name()))
                        .help("numbers of different kinds need a conversion, e.g. double(x) + 1.5")),
                }
            }
            (operators::SUBSTRACT | operators::MULTIPLY | operators::DIVIDE | operators::MODULO, None) => {
                arity(2)?;
                match (&args[0], &args[1]) {
                    (Ty::Dyn, t) | (t, Ty::Dyn) if t.is_numeric() || *t == Ty::Dyn => Ok(t.clone()),
                    (a, b) if a == b && a.is_numeric() && !(name == operators::MODULO && *a == Ty::Double) => {
                        Ok(a.clone())
                    }
                    (a, b) => Err(mismatch(format!(
                        "`{}` cannot be applied to {} and {}",
                        pretty(name),
                        a.name(),
                        b.name()
                    ))
                    .help("numbers of different kinds need a conversion, e.g. double(x) / 24.0")),
                }
            }
            (operators::IN, None) => {
                arity(2)?;
                match &args[1] {
                    Ty::List(elem) => {
                        if !args[0].comparable(elem) {
                            return Err(mismatch(format!(
                                "{} is never in {}",
                                args[0].name(),
                                args[1].name()
                            )));
                        }
                        Ok(Ty::Bool)
                    }
                    Ty::Map | Ty::Dyn => Ok(Ty::Bool),
                    other => Err(mismatch(format!("`in` needs a list or a map on its right, not {}", other.name()))),
                }
            }
            (operators::CONDITIONAL, None) => {
                arity(3)?;
                if !args[0].is(&Ty::Bool) {
                    return Err(mismatch(format!("`? :` needs true/false before `?`, not {}", args[0].name())));
                }
                if args[1] == args[2] {
                    Ok(args[1].clone())
                } else if args[1].comparable(&args[2]) {
                    Ok(Ty::Dyn)
                } else {
                    Err(mismatch(format!(
                        "both branches of `? :` should have the same type, not {} and {}",
                        args[1].name(),
                        args[2].name()
                    )))
                }
            }
            (operators::INDEX, None) => {
                arity(2)?;
                match (&args[0], &args[1]) {
                    (Ty::List(t), Ty::Int | Ty::UInt | Ty::Dyn) => Ok((**t).clone()),
                    (Ty::Map | Ty::Dyn, _) => Ok(Ty::Dyn),
                    (a, b) => Err(mismatch(format!("{} cannot be indexed with {}", a.name(), b.name()))),
                }
            }
            ("size", None) => {
                arity(1)?;
                sized(&args[0]).map_err(|t| mismatch(format!("size() needs a string or a list, not {}", t.name())))
            }
            ("size", Some(t)) => {
                arity(0)?;
                sized(t).map_err(|t| mismatch(format!("size() needs a string or a list, not {}", t.name())))
            }
            ("int" | "double" | "uint" | "string", None) => {
                arity(1)?;
                let ok = matches!(
                    args[0],
                    Ty::Int | Ty::UInt | Ty::Double | Ty::Str | Ty::Dyn
                ) || (name == "string" && matches!(args[0], Ty::Bool | Ty::Bytes));
                if !ok {
                    return Err(mismatch(format!("{name}() cannot convert {}", args[0].name())));
                }
                Ok(match name {
                    "int" => Ty::Int,
                    "uint" => Ty::UInt,
                    "double" => Ty::Double,
                    _ => Ty::Str,
                })
            }
            ("contains" | "startsWith" | "endsWith" | "matches", Some(t)) => {
                arity(1)?;
                if !t.is(&Ty::Str) || !args[0].is(&Ty::Str) {
                    return Err(mismatch(format!(
                        "{name}() works on strings: text.{name}(\"...\"), not on {}",
                        t.name()
                    )));
                }
                Ok(Ty::Bool)
            }
            ("lowerAscii" | "upperAscii" | "trim" | "reverse", Some(t)) => {
                arity(0)?;
                if !t.is(&Ty::Str) {
                    return Err(mismatch(format!("{name}() works on strings, not on {}", t.name())));
                }
                Ok(Ty::Str)
            }
            ("split", Some(t)) => {
                if !t.is(&Ty::Str) || args.is_empty() || !args[0].is(&Ty::Str) {
                    return Err(mismatch("split() works on a string with a string separator".to_owned()));
                }
                Ok(Ty::List(Box::new(Ty::Str)))
            }
            ("join", Some(t)) => {
                if !matches!(t, Ty::List(_) | Ty::Dyn) {
                    return Err(mismatch(format!("join() works on a list, not on {}", t.name())));
                }
                Ok(Ty::Str)
            }
            _ => Err(mismatch(format!("unknown function `{}`", pretty(name))).help(
                "conditions can use: size, contains, startsWith, endsWith, matches, lowerAscii, upperAscii, trim, split, join, int, double, string, and the macros has, all, exists, exists_one, map, filter",
            )),
        }
    }
}

fn sized(t: &Ty) -> Result<Ty, Ty> {
    match t {
        Ty::Str | Ty::Bytes | Ty::List(_) | Ty::Map | Ty::Dyn => Ok(Ty::Int),
        other => Err(other.clone()),
    }
}

/// `_&&_` → `&&` for messages.
fn pretty(name: &str) -> &str {
    name.trim_start_matches('_')
        .trim_end_matches('_')
        .trim_start_matches('@')
}

// ---------------------------------------------------------------------------
// Evaluation.

/// Rewrites a checked expression into an equivalent one that cel 0.15
/// evaluates with fewer allocations. Only applied after the checker has
/// proved the types, so the rewrites cannot change a result:
///
/// - `var.field` on a schema variable becomes the single identifier
///   `var.field`, which the resolver answers directly (cel would otherwise
///   split the name into a vector, join it into a string and try each
///   prefix);
/// - `!x` becomes `x ? false : true`: cel builds its overload error eagerly
///   for `!`, on every evaluation, while the conditional tests the bool in
///   place.
///
/// Variables bound by comprehensions shadow schema variables and are left
/// alone.
fn optimize(kind: RecordKind, e: &IdedExpr, locals: &mut Vec<String>) -> IdedExpr {
    let id = e.id;
    let expr = match &e.expr {
        Expr::Select(sel) if !sel.test => match &sel.operand.expr {
            Expr::Ident(var)
                if !locals.iter().any(|l| l == var)
                    && facts::var(kind, var).is_some_and(|v| v.field(&sel.field).is_some()) =>
            {
                Expr::Ident(format!("{var}.{}", sel.field))
            }
            _ => {
                let mut sel = sel.clone();
                sel.operand = Box::new(optimize(kind, &sel.operand, locals));
                Expr::Select(sel)
            }
        },
        Expr::Call(call)
            if call.func_name == operators::LOGICAL_NOT
                && call.args.len() == 1
                && call.target.is_none() =>
        {
            let lit = |b: bool| IdedExpr {
                id,
                expr: Expr::Literal(LiteralValue::Boolean(CelBool::from(b))),
            };
            Expr::Call(CallExpr {
                func_name: operators::CONDITIONAL.to_owned(),
                target: None,
                args: vec![optimize(kind, &call.args[0], locals), lit(false), lit(true)],
            })
        }
        Expr::Call(call) => Expr::Call(CallExpr {
            func_name: call.func_name.clone(),
            target: call
                .target
                .as_ref()
                .map(|t| Box::new(optimize(kind, t, locals))),
            args: call
                .args
                .iter()
                .map(|a| optimize(kind, a, locals))
                .collect(),
        }),
        Expr::List(list) => {
            let mut list = list.clone();
            list.elements = list
                .elements
                .iter()
                .map(|x| optimize(kind, x, locals))
                .collect();
            Expr::List(list)
        }
        Expr::Comprehension(c) => {
            let mut c = (**c).clone();
            c.iter_range = optimize(kind, &c.iter_range, locals);
            c.accu_init = optimize(kind, &c.accu_init, locals);
            let mark = locals.len();
            locals.push(c.iter_var.clone());
            if let Some(v2) = &c.iter_var2 {
                locals.push(v2.clone());
            }
            locals.push(c.accu_var.clone());
            c.loop_cond = optimize(kind, &c.loop_cond, locals);
            c.loop_step = optimize(kind, &c.loop_step, locals);
            c.result = optimize(kind, &c.result, locals);
            locals.truncate(mark);
            Expr::Comprehension(Box::new(c))
        }
        other => other.clone(),
    };
    IdedExpr { id, expr }
}

static TRUE: CelBool = CelBool::TRUE;
static FALSE: CelBool = CelBool::FALSE;

/// Serves the variables of one record to cel.
struct Resolver<'f> {
    facts: &'f dyn FactSource,
}

impl VariableResolver for Resolver<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        // cel asks for the whole qualified name first (`request.type`):
        // answering it directly saves building a view and indexing it.
        if let Some(dot) = variable.bytes().position(|b| b == b'.') {
            let (var, field) = (&variable[..dot], &variable[dot + 1..]);
            return self.facts.get(var, field).map(|f| match f {
                // Bools are borrowed from statics: no allocation.
                Fact::Bool(b) => CowVal::Borrowed(if b { &TRUE } else { &FALSE }),
                f => CowVal::from(to_val(f)),
            });
        }
        let var = facts::var(self.facts.kind(), variable)?;
        Some(CowVal::owned(VarView {
            facts: self.facts,
            var: var.name,
        }))
    }
}

/// One variable of a record, as a cel value whose fields are read lazily.
struct VarView<'f> {
    facts: &'f dyn FactSource,
    var: &'static str,
}

impl std::fmt::Debug for VarView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{}>", self.var)
    }
}

impl Val for VarView<'_> {
    fn get_type(&self) -> &Type {
        &DYN_TYPE
    }

    fn cel_type() -> &'static Type {
        &DYN_TYPE
    }

    fn as_indexer<'b, 'v>(&'b self) -> Option<&'b (dyn Indexer + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }

    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v>
    where
        Self: 'v,
    {
        Box::new(VarView {
            facts: self.facts,
            var: self.var,
        })
    }
}

impl VarView<'_> {
    fn field<'v>(&self, idx: &dyn Val) -> Result<Box<dyn Val + 'v>, ExecutionError>
    where
        Self: 'v,
    {
        let Some(name) = idx.downcast_ref::<CelString>() else {
            return Err(ExecutionError::no_such_key("?"));
        };
        let fact = self
            .facts
            .get(self.var, name.inner())
            .ok_or_else(|| ExecutionError::no_such_key(name.inner()))?;
        Ok(to_val(fact))
    }
}

fn to_val<'v>(fact: Fact<'v>) -> Box<dyn Val + 'v> {
    match fact {
        Fact::Bool(b) => Box::new(CelBool::from(b)),
        Fact::Int(i) => Box::new(CelInt::from(i)),
        Fact::Double(d) => Box::new(CelDouble::from(d)),
        Fact::Str(s) => Box::new(CelString::from(s)),
        Fact::List(items) => {
            let items: Vec<Box<dyn Val + 'v>> = items
                .iter()
                .map(|s| Box::new(CelString::from(s.as_str())) as Box<dyn Val + 'v>)
                .collect();
            Box::new(CelList::from(items))
        }
    }
}

impl Indexer for VarView<'_> {
    fn get<'b, 'v>(&'b self, idx: &dyn Val) -> Result<CowVal<'b, 'v>, ExecutionError>
    where
        Self: 'v,
    {
        self.field(idx).map(CowVal::from)
    }

    fn steal<'v>(self: Box<Self>, idx: &dyn Val) -> Result<Box<dyn Val + 'v>, ExecutionError>
    where
        Self: 'v,
    {
        self.field(idx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::input::{MeetingFacts, MeetingInput};

    fn refused(kind: RecordKind, src: &str) -> ConditionError {
        Condition::compile(kind, src).expect_err(src)
    }

    #[test]
    fn good_conditions_compile() {
        for src in [
            "meeting.customer_facing && meeting.pm_present && !meeting.owner_present",
            "meeting.pm_attendees >= 2 || meeting.duration_minutes > 90",
            "meeting.title.lowerAscii().contains('demo')",
            "size(account.name) > 0 && account.name.startsWith('A')",
            "meeting.duration_minutes / 60 > 2",
            "double(meeting.duration_minutes) / 60.0 > 1.5",
            "meeting.source in ['calendar', 'logged']",
            "['a', 'b'].exists(x, x == meeting.title)",
            "has(meeting.title)",
            "meeting.title.split(' ').size() > 3",
        ] {
            Condition::compile(RecordKind::Meeting, src).unwrap_or_else(|e| panic!("{src}: {e:?}"));
        }
        Condition::compile(
            RecordKind::Request,
            "!(request.type in stage.allowed_types)",
        )
        .unwrap();
        Condition::compile(
            RecordKind::Request,
            "stage.allowed_types.exists(t, t == request.type)",
        )
        .unwrap();
    }

    #[test]
    fn unknown_names_and_fields_are_refused_with_a_location() {
        let e = refused(RecordKind::Meeting, "meeting.owner_presnt");
        assert!(e.message.contains("no field `owner_presnt`"), "{e:?}");
        assert_eq!(e.span, Some(7..20));
        assert!(e.help.unwrap().contains("owner_present"));

        let e = refused(RecordKind::Meeting, "true && request.type == 'demo'");
        assert!(e.message.contains("unknown name `request`"), "{e:?}");
        assert_eq!(e.span.map(|s| s.start), Some(8));
    }

    #[test]
    fn type_errors_are_refused() {
        for (src, needle) in [
            ("meeting.duration_minutes > 'long'", "cannot be compared"),
            ("meeting.title == 3", "never equal"),
            ("meeting.pm_attendees && true", "true/false"),
            ("meeting.title", "must be true or false"),
            ("meeting.duration_minutes + 1.5 > 2.0", "cannot add"),
            ("meeting.title.contains(3)", "works on strings"),
            ("frobnicate(meeting.title)", "unknown function"),
            ("meeting.title in meeting.title", "`in` needs a list"),
            ("meeting > 3", "cannot be compared"),
            ("meeting.title.nope", "cannot be read"),
        ] {
            let e = refused(RecordKind::Meeting, src);
            assert!(e.message.contains(needle), "{src}: {e:?}");
        }
    }

    #[test]
    fn syntax_errors_carry_a_position() {
        let e = refused(RecordKind::Meeting, "meeting.owner_present &&");
        assert!(e.message.starts_with("syntax error"), "{e:?}");
        assert!(e.span.is_some());
        let e = refused(RecordKind::Meeting, "   ");
        assert!(e.message.contains("empty"));
    }

    #[test]
    fn conditions_evaluate_against_facts() {
        let input = MeetingInput {
            owner_present: false,
            title: "Quarterly DEMO".into(),
            ..MeetingInput::default()
        };
        let facts = MeetingFacts::new(&input);
        let eval = |src: &str| {
            Condition::compile(RecordKind::Meeting, src)
                .unwrap()
                .eval(&facts)
                .unwrap()
        };
        assert!(eval(
            "meeting.customer_facing && meeting.pm_present && !meeting.owner_present"
        ));
        assert!(eval("meeting.title.lowerAscii().contains('demo')"));
        assert!(!eval("meeting.duration_minutes > 60"));
        assert!(eval("meeting.duration_minutes >= 60.0"));
        assert!(eval("meeting.source in ['planned']"));
    }

    #[test]
    fn the_optimized_form_gives_the_same_results() {
        // Locals shadowing a schema variable, negations, selections inside
        // comprehensions: compare with cel's own evaluation of the original.
        let input = MeetingInput {
            owner_present: false,
            title: "a b".into(),
            ..MeetingInput::default()
        };
        let facts = MeetingFacts::new(&input);
        for src in [
            "!meeting.owner_present",
            "!!meeting.owner_present",
            "!(meeting.pm_attendees > 3)",
            "['x'].exists(meeting, meeting == 'x')",
            "[1, 2].all(x, x < meeting.duration_minutes)",
            "meeting.title.split(' ').exists(w, !(w == 'c'))",
            "has(meeting.title) && !has(account.name) == false",
        ] {
            let c = Condition::compile(RecordKind::Meeting, src).unwrap();
            let fast = c.eval(&facts).unwrap();
            let resolver = Resolver { facts: &facts };
            let mut ctx = Context::with_env(Arc::clone(&ENV));
            ctx.set_variable_resolver(&resolver);
            let slow = c.program.execute(&ctx).unwrap();
            assert_eq!(Value::Bool(fast), slow, "{src}");
        }
    }

    #[test]
    fn runtime_errors_are_reported_not_panicked() {
        let input = MeetingInput {
            duration_minutes: 0,
            ..MeetingInput::default()
        };
        let facts = MeetingFacts::new(&input);
        let c =
            Condition::compile(RecordKind::Meeting, "60 / meeting.duration_minutes > 1").unwrap();
        assert!(c.eval(&facts).is_err());
    }
}
