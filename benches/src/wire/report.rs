//! The report of `wire_bench`: one [`Comparison`] per measurement (the samples of both servers,
//! or what failed), printed as one line each and then as a Markdown table for the README.
//!
//! Every ratio is a *speed* ratio, above 1 when custos is faster: custos ÷ PostgreSQL for
//! throughputs (rows/s, transactions/s), PostgreSQL ÷ custos for durations. Each figure is the
//! median of its samples.

use crate::median;

/// What a figure measures, which decides how its ratio is formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    RowsPerSecond,
    TransactionsPerSecond,
    Milliseconds,
}

impl Unit {
    fn label(self) -> &'static str {
        match self {
            Unit::RowsPerSecond => "rows/s",
            Unit::TransactionsPerSecond => "tps",
            Unit::Milliseconds => "ms",
        }
    }

    fn higher_is_faster(self) -> bool {
        self != Unit::Milliseconds
    }
}

/// One measurement on both servers.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub name: String,
    pub unit: Unit,
    /// The speed ratio issue 3 asks for, if any.
    pub target: Option<f64>,
    /// Samples, or what failed on that server.
    pub custos: Result<Vec<f64>, String>,
    pub postgres: Result<Vec<f64>, String>,
    /// For queries: whether both servers returned the same rows.
    pub same_results: Option<Result<(), String>>,
}

impl Comparison {
    pub fn new(name: impl Into<String>, unit: Unit, target: Option<f64>) -> Comparison {
        Comparison {
            name: name.into(),
            unit,
            target,
            custos: Ok(Vec::new()),
            postgres: Ok(Vec::new()),
            same_results: None,
        }
    }

    fn figure(samples: &Result<Vec<f64>, String>) -> Option<f64> {
        match samples {
            Ok(samples) if !samples.is_empty() => Some(median(samples.clone())),
            _ => None,
        }
    }

    pub fn custos_figure(&self) -> Option<f64> {
        Self::figure(&self.custos)
    }

    pub fn postgres_figure(&self) -> Option<f64> {
        Self::figure(&self.postgres)
    }

    /// How many times faster custos is (above 1: faster).
    pub fn speed_ratio(&self) -> Option<f64> {
        let (custos, postgres) = (self.custos_figure()?, self.postgres_figure()?);
        let ratio = if self.unit.higher_is_faster() {
            custos / postgres
        } else {
            postgres / custos
        };
        ratio.is_finite().then_some(ratio)
    }

    /// Whether something failed or the results differ.
    pub fn failed(&self) -> bool {
        self.custos.is_err() || self.postgres.is_err() || matches!(self.same_results, Some(Err(_)))
    }

    fn shown(&self, samples: &Result<Vec<f64>, String>) -> String {
        match (samples, Self::figure(samples)) {
            (Err(_), _) => "FAILED".into(),
            (Ok(_), None) => "not measured".into(),
            (Ok(_), Some(figure)) => format!("{} {}", format_number(figure), self.unit.label()),
        }
    }

    fn target_verdict(&self) -> String {
        match (self.target, self.speed_ratio()) {
            (None, _) => "—".into(),
            (Some(target), Some(ratio)) if ratio >= target => format!("≥ {target:.1}: met"),
            (Some(target), Some(_)) => format!("≥ {target:.1}: missed"),
            (Some(target), None) => format!("≥ {target:.1}: ?"),
        }
    }

    /// The one-line summary printed as soon as the measurement is done.
    pub fn line(&self) -> String {
        let ratio = self
            .speed_ratio()
            .map_or("?".into(), |ratio| format!("{ratio:.2}"));
        let mut line = format!(
            "{}: custos {}, PostgreSQL {}, speed ratio custos/PostgreSQL {ratio}",
            self.name,
            self.shown(&self.custos),
            self.shown(&self.postgres)
        );
        if let Some(target) = self.target {
            line.push_str(&format!(" (target ≥ {target:.1})"));
        }
        match &self.same_results {
            Some(Ok(())) => line.push_str("; same results"),
            Some(Err(_)) => line.push_str("; RESULTS DIFFER"),
            None => {}
        }
        line
    }

    /// What went wrong, one entry per problem.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Err(error) = &self.custos {
            problems.push(format!("{} on custos: {error}", self.name));
        }
        if let Err(error) = &self.postgres {
            problems.push(format!("{} on PostgreSQL: {error}", self.name));
        }
        if let Some(Err(error)) = &self.same_results {
            problems.push(format!("{}: {error}", self.name));
        }
        problems
    }
}

/// The Markdown table of all comparisons.
pub fn markdown_table(comparisons: &[Comparison]) -> String {
    let mut table = String::from(
        "| measurement | custos | PostgreSQL 15 | speed ratio (custos/PostgreSQL) | target |\n\
         |---|---:|---:|---:|---|\n",
    );
    for comparison in comparisons {
        let ratio = comparison
            .speed_ratio()
            .map_or("?".into(), |ratio| format!("{ratio:.2}"));
        let name = match &comparison.same_results {
            Some(Err(_)) => format!("{} (RESULTS DIFFER)", comparison.name),
            _ => comparison.name.clone(),
        };
        table.push_str(&format!(
            "| {name} | {} | {} | {ratio} | {} |\n",
            comparison.shown(&comparison.custos),
            comparison.shown(&comparison.postgres),
            comparison.target_verdict()
        ));
    }
    table
}

/// Numbers as a reader wants them: thousands separated, decimals only for small values.
pub fn format_number(value: f64) -> String {
    if value.abs() >= 100.0 {
        let digits = format!("{:.0}", value.abs());
        let mut grouped = String::new();
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        if value < 0.0 {
            grouped.insert(0, '-');
        }
        grouped
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// The CPU model from `/proc/cpuinfo`.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// The 1-minute load average: how busy the machine was with work other than ours.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// Total memory in GiB from `/proc/meminfo`.
pub fn total_memory_gib() -> Option<f64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / f64::from(1u32 << 20))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_speed_ratios() {
        let mut copy = Comparison::new("COPY", Unit::RowsPerSecond, Some(1.0));
        copy.custos = Ok(vec![200.0, 100.0, 300.0]);
        copy.postgres = Ok(vec![100.0]);
        assert_eq!(copy.speed_ratio(), Some(2.0));
        let mut query = Comparison::new("GROUP BY", Unit::Milliseconds, Some(2.0));
        query.custos = Ok(vec![50.0]);
        query.postgres = Ok(vec![75.0]);
        assert_eq!(query.speed_ratio(), Some(1.5));
        assert!(query.line().contains("1.50 (target ≥ 2.0)"));
        assert!(markdown_table(&[query]).contains("≥ 2.0: missed"));
    }

    #[test]
    fn a_failure_is_shown_and_counted() {
        let mut lookups = Comparison::new("lookups", Unit::TransactionsPerSecond, Some(1.0));
        lookups.custos = Err("`pgbench`: exit status 2".into());
        lookups.postgres = Ok(vec![1000.0]);
        assert!(lookups.failed());
        assert_eq!(lookups.speed_ratio(), None);
        assert!(lookups.line().contains("custos FAILED"));
        assert_eq!(lookups.problems().len(), 1);
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(format_number(1_234_567.4), "1,234,567");
        assert_eq!(format_number(12.345), "12.3");
        assert_eq!(format_number(1.234), "1.23");
    }
}
