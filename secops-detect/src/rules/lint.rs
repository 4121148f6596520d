//! Linting a rule's text: rsigma's linter (Sigma specification and SigmaHQ conventions), plus what only
//! parsing and compiling reveal (a condition that does not parse, a regular expression that does not compile),
//! each with a line and column.

use serde::Serialize;

/// How bad a lint finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LintSeverity {
    /// The rule is invalid or cannot run.
    Error,
    /// The rule runs but breaks a convention.
    Warning,
    /// A suggestion.
    Info,
    /// A stylistic hint.
    Hint,
}

/// One finding, at a 1-based line and column of the rule's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintIssue {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
    /// How bad.
    pub severity: LintSeverity,
    /// A stable name for the check, e.g. `missing_author`, `condition`, `compile`.
    pub code: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for LintIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let severity = match self.severity {
            LintSeverity::Error => "error",
            LintSeverity::Warning => "warning",
            LintSeverity::Info => "info",
            LintSeverity::Hint => "hint",
        };
        write!(
            f,
            "{}:{}: {severity}[{}]: {}",
            self.line, self.column, self.code, self.message
        )
    }
}

/// Lint the text of a rule file (one or more YAML documents). Findings come sorted by position.
///
/// ```
/// use secops_detect::rules::{LintSeverity, lint};
///
/// let yaml = "title: Broken\nlogsource:\n    product: windows\ndetection:\n    selection:\n        Image|endswith: '\\x.exe'\n    condition: selection and (\nlevel: high\n";
/// let issues = lint(yaml);
/// let condition = issues.iter().find(|i| i.severity == LintSeverity::Error).unwrap();
/// assert_eq!((condition.line, condition.column), (7, 31));
/// assert!(condition.message.contains("ondition"));
/// ```
pub fn lint(text: &str) -> Vec<LintIssue> {
    let mut issues: Vec<LintIssue> = rsigma_parser::lint_yaml_str(text)
        .into_iter()
        .map(|w| {
            let (line, column) = w
                .span
                .map_or((1, 1), |s| (s.start_line as usize + 1, s.start_col as usize + 1));
            LintIssue {
                line,
                column,
                severity: match w.severity {
                    rsigma_parser::Severity::Error => LintSeverity::Error,
                    rsigma_parser::Severity::Warning => LintSeverity::Warning,
                    rsigma_parser::Severity::Info => LintSeverity::Info,
                    rsigma_parser::Severity::Hint => LintSeverity::Hint,
                },
                code: w.rule.to_string(),
                message: one_line(&w.message),
            }
        })
        .collect();
    let linter_found_errors = issues.iter().any(|i| i.severity == LintSeverity::Error);

    // The linter checks structure; parsing checks conditions and modifiers, compiling checks values
    // (regular expressions, CIDR ranges, base64). Report what they find that the linter did not.
    match rsigma_parser::parse_sigma_yaml(text) {
        Err(e) => {
            if !linter_found_errors {
                issues.push(located(
                    text,
                    "detection",
                    LintSeverity::Error,
                    "parse",
                    one_line(&e.to_string()),
                ));
            }
        }
        Ok(collection) => {
            if !linter_found_errors {
                for error in &collection.errors {
                    let anchor = if error.contains("ondition") {
                        "condition"
                    } else {
                        "detection"
                    };
                    let mut issue = located(text, anchor, LintSeverity::Error, "parse", one_line(error));
                    if anchor == "condition" {
                        issue.code = "condition".to_owned();
                        issue.column = condition_column(text, issue.line, error).unwrap_or(issue.column);
                    }
                    issues.push(issue);
                }
            }
            for rule in &collection.rules {
                if let Err(e) = rsigma_eval::compile_rule(rule) {
                    issues.push(located(
                        text,
                        "detection",
                        LintSeverity::Error,
                        "compile",
                        one_line(&e.to_string()),
                    ));
                }
            }
            for correlation in &collection.correlations {
                if let Err(e) = rsigma_eval::correlation::compile_correlation(correlation) {
                    issues.push(located(
                        text,
                        "correlation",
                        LintSeverity::Error,
                        "compile",
                        one_line(&e.to_string()),
                    ));
                }
            }
        }
    }
    issues.sort_by_key(|a| (a.line, a.column, a.severity));
    issues
}

/// Parser and regex errors draw pictures over several lines; a finding is one line: the first line, then
/// the lines that say what was expected (`= expected expr`, `error: unclosed group`).
fn one_line(message: &str) -> String {
    let mut lines = message.lines().map(str::trim);
    let first = lines.next().unwrap_or_default();
    let first = first.split(" -->").next().unwrap_or(first).trim_end();
    let mut out = first.to_owned();
    for line in lines {
        let detail = line.strip_prefix("= ").or_else(|| line.strip_prefix("error: "));
        if let Some(detail) = detail {
            out.push(' ');
            out.push_str(detail);
        }
    }
    out
}

/// The column of a condition error in the file: where the condition's value starts on its line, plus the
/// error's column within the condition (`... at 1:16`), for one-line conditions.
fn condition_column(text: &str, line: usize, error: &str) -> Option<usize> {
    let at = error.split(" at ").nth(1)?;
    let (l, c) = at.split_once(':')?;
    let c: usize = c
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()?;
    if l.trim() != "1" {
        return None;
    }
    let source = text.lines().nth(line.checked_sub(1)?)?;
    let value_start = source.find("condition:")? + "condition:".len();
    let value_offset = source[value_start..].len() - source[value_start..].trim_start().len();
    Some(value_start + value_offset + c)
}

/// An issue placed on the first line that starts the `key:` entry (at any indentation), else line 1.
fn located(text: &str, key: &str, severity: LintSeverity, code: &str, message: String) -> LintIssue {
    let pattern = format!("{key}:");
    let (line, column) = text
        .lines()
        .enumerate()
        .find_map(|(i, l)| {
            let trimmed = l.trim_start();
            trimmed
                .starts_with(&pattern)
                .then(|| (i + 1, l.len() - trimmed.len() + 1))
        })
        .unwrap_or((1, 1));
    LintIssue {
        line,
        column,
        severity,
        code: code.to_owned(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_regex_is_reported_at_detection() {
        let yaml = "title: t\nid: 5d1f0c4e-1111-4111-8111-111111111111\nstatus: test\ndescription: d\nauthor: me\ndate: 2025-01-01\nlogsource:\n  product: windows\ndetection:\n  s:\n    A|re: '(('\n  condition: s\nlevel: low\n";
        let issues = lint(yaml);
        let compile = issues.iter().find(|i| i.code == "compile").unwrap();
        assert_eq!((compile.line, compile.column), (9, 1));
    }

    #[test]
    fn yaml_errors_have_positions() {
        let issues = lint("title: t\nlogsource: [\n");
        assert!(
            issues
                .iter()
                .any(|i| i.severity == LintSeverity::Error && i.line >= 2),
            "{issues:?}"
        );
    }
}
