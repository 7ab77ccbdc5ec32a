//! RAISE: the message, its placeholders and USING options, as a notice or an error.

use storage::types::Value;

use super::super::conditions;
use super::super::parse::{Level, Raise, RaiseOption, SqlKind, SqlText};
use super::Interp;
use crate::engine::Notice;
use crate::error::{code, SqlError, SqlResult};
use crate::pgtype::SqlType;

impl Interp<'_> {
    pub(super) fn raise(&mut self, r: &Raise) -> SqlResult<()> {
        // The arguments and option values, as text, in one query.
        let mut exprs: Vec<&SqlText> = r.args.iter().collect();
        exprs.extend(r.options.iter().map(|(_, e)| e));
        let mut texts: Vec<Option<String>> = Vec::new();
        if !exprs.is_empty() {
            let mut sql = String::from("SELECT ");
            let mut params: Vec<(Value, SqlType)> = Vec::new();
            for (i, e) in exprs.iter().enumerate() {
                let (text, p) = self.render(e)?;
                // Renumber this expression's parameters after the earlier ones.
                let base = params.len();
                let text = renumber(&text, base);
                params.extend(p);
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("CAST(({text}) AS text)"));
            }
            let produced = self.query(SqlKind::Select, &sql, &params)?;
            let row = produced.rows.into_iter().next().unwrap_or_default();
            texts = row
                .into_iter()
                .map(|v| match v {
                    Value::Text(s) => Some(s),
                    _ => None,
                })
                .collect();
        }
        let (arg_texts, option_texts) = texts.split_at(r.args.len().min(texts.len()));
        let mut message = r.format.as_ref().map(|f| format_message(f, arg_texts));
        let mut sqlstate: Option<&'static str> = match &r.condition {
            Some(c) => {
                if message.is_none() {
                    message = Some(c.clone());
                }
                Some(conditions::code_of(c).unwrap_or_else(|| conditions::intern(c)))
            }
            None => None,
        };
        let mut detail = None;
        let mut hint = None;
        for ((option, _), text) in r.options.iter().zip(option_texts) {
            let Some(text) = text.clone() else {
                return Err(SqlError::new(
                    code::NULL_VALUE_NOT_ALLOWED,
                    "RAISE statement option cannot be null",
                ));
            };
            match option {
                RaiseOption::Message => {
                    if r.format.is_some() {
                        return Err(SqlError::syntax("RAISE option already specified: MESSAGE"));
                    }
                    message = Some(text);
                }
                RaiseOption::Detail => detail = Some(text),
                RaiseOption::Hint => hint = Some(text),
                RaiseOption::Errcode => {
                    if r.condition.is_some() {
                        return Err(SqlError::syntax("RAISE option already specified: ERRCODE"));
                    }
                    let c = conditions::code_of(&text.to_lowercase())
                        .or_else(|| {
                            conditions::is_sqlstate(&text).then(|| conditions::intern(&text))
                        })
                        .ok_or_else(|| {
                            SqlError::new(
                                code::UNDEFINED_OBJECT,
                                format!("unrecognized exception condition \"{text}\""),
                            )
                        })?;
                    if message.is_none() {
                        message = Some(text.clone());
                    }
                    sqlstate = Some(c);
                }
            }
        }
        let message = message.unwrap_or_else(|| match r.level {
            Level::Exception => "unhandled exception".into(),
            _ => String::new(),
        });
        match r.level {
            Level::Exception => Err(SqlError {
                code: sqlstate.unwrap_or(code::RAISE_EXCEPTION),
                message,
                detail,
                hint,
                position: None,
            }),
            Level::Debug | Level::Log => Ok(()),
            level => {
                let severity = match level {
                    Level::Info => "INFO",
                    Level::Warning => "WARNING",
                    _ => "NOTICE",
                };
                let default_code = if level == Level::Warning {
                    "01000"
                } else {
                    "00000"
                };
                self.host.notice(Notice {
                    severity,
                    code: sqlstate.unwrap_or(default_code),
                    message,
                    detail,
                    hint,
                });
                Ok(())
            }
        }
    }
}

/// `$n` in rendered text shifted by `base` (rendered text has no other `$n`: arguments and
/// variables are the only parameters, and string literals keep their `$` as written).
fn renumber(text: &str, base: usize) -> String {
    if base == 0 {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    let mut quoted = false;
    while let Some((_, c)) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c == '$' && !quoted && chars.peek().is_some_and(|(_, d)| d.is_ascii_digit()) {
            let mut n = String::new();
            while let Some((_, d)) = chars.peek().filter(|(_, d)| d.is_ascii_digit()) {
                n.push(*d);
                chars.next();
            }
            let n: usize = n.parse().unwrap_or(0);
            out.push_str(&format!("${}", n + base));
            continue;
        }
        out.push(c);
    }
    out
}

/// RAISE's format with each `%` replaced by the next argument (`<NULL>` for NULL).
pub fn format_message(format: &str, args: &[Option<String>]) -> String {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '%' {
            if chars.peek() == Some(&'%') {
                chars.next();
                out.push('%');
                continue;
            }
            match args.next() {
                Some(Some(s)) => out.push_str(s),
                Some(None) => out.push_str("<NULL>"),
                None => {}
            }
            continue;
        }
        out.push(c);
    }
    out
}
