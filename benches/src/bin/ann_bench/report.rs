//! The Markdown report of `ann_bench`: curves, build times, ratios at the target recall,
//! filtered searches and IVF.

use crate::{Settings, EF_CONSTRUCTION, K, M, TARGET_RECALL};

/// One point of a recall / speed curve.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Point {
    pub(crate) setting: usize,
    pub(crate) recall: f64,
    pub(crate) qps: f64,
}

#[derive(Debug, Default)]
pub(crate) struct EngineCurve {
    pub(crate) build_seconds: Option<f64>,
    pub(crate) build_cpu_seconds: Option<f64>,
    pub(crate) points: Vec<Point>,
    pub(crate) error: Option<String>,
}

impl EngineCurve {
    /// The fastest point with recall at least `target`.
    pub(crate) fn best_at(&self, target: f64) -> Option<Point> {
        self.points
            .iter()
            .filter(|point| point.recall >= target)
            .copied()
            .max_by(|a, b| a.qps.total_cmp(&b.qps))
    }
}

pub(crate) struct DatasetReport {
    pub(crate) name: &'static str,
    pub(crate) rows: usize,
    pub(crate) dim: usize,
    pub(crate) queries: usize,
    pub(crate) custos: EngineCurve,
    pub(crate) baselines: Vec<(String, EngineCurve)>,
    /// (permille, recall, qps, short results)
    pub(crate) filtered: Vec<(u32, f64, f64, usize)>,
    pub(crate) ivf_lists: usize,
    pub(crate) ivf_build_seconds: f64,
    pub(crate) ivf: Vec<Point>,
}

pub(crate) fn print_report(report: &DatasetReport, settings: &Settings) {
    println!(
        "\n### {} ({} rows × {}, cosine, {} queries, k = {K})\n",
        report.name, report.rows, report.dim, report.queries
    );
    let mut header = String::from("| ef_search | custos recall@10 | custos q/s |");
    let mut rule = String::from("|---:|---:|---:|");
    for (name, curve) in &report.baselines {
        if curve.error.is_none() {
            header.push_str(&format!(" {name} recall@10 | {name} q/s |"));
            rule.push_str("---:|---:|");
        }
    }
    println!("{header}\n{rule}");
    for (row, point) in report.custos.points.iter().enumerate() {
        let mut line = format!(
            "| {} | {:.4} | {:.0} |",
            point.setting, point.recall, point.qps
        );
        for (_, curve) in &report.baselines {
            if curve.error.is_some() {
                continue;
            }
            match curve.points.get(row) {
                Some(other) => line.push_str(&format!(" {:.4} | {:.0} |", other.recall, other.qps)),
                None => line.push_str(" – | – |"),
            }
        }
        println!("{line}");
    }
    let seconds = |curve: &EngineCurve| match (curve.build_seconds, curve.build_cpu_seconds) {
        (Some(wall), Some(cpu)) => format!("{wall:.2} s ({cpu:.2} s of CPU)"),
        (Some(wall), None) => format!("{wall:.2} s"),
        _ => "–".to_string(),
    };
    println!(
        "\nBuild (m = {M}, ef_construction = {EF_CONSTRUCTION}, {} threads): custos {}",
        settings.threads,
        seconds(&report.custos)
    );
    for (name, curve) in &report.baselines {
        match &curve.error {
            Some(error) => println!("- {name}: not measured: {error}"),
            None => println!("- {name}: build {}", seconds(curve)),
        }
    }
    let custos_best = report.custos.best_at(TARGET_RECALL);
    for (name, curve) in &report.baselines {
        if curve.error.is_some() {
            continue;
        }
        let speed = match (custos_best, curve.best_at(TARGET_RECALL)) {
            (Some(ours), Some(theirs)) => format!(
                "{:.2}x (custos {:.0} q/s at ef {}, {name} {:.0} q/s at ef {})",
                ours.qps / theirs.qps,
                ours.qps,
                ours.setting,
                theirs.qps,
                theirs.setting
            ),
            (None, _) => "custos never reaches recall 0.95".to_string(),
            (_, None) => format!("{name} never reaches recall 0.95"),
        };
        let build = match (report.custos.build_seconds, curve.build_seconds) {
            (Some(ours), Some(theirs)) => {
                format!("{:.2}x ({name} time / custos time)", theirs / ours)
            }
            _ => "–".to_string(),
        };
        println!(
            "- custos / {name}: q/s at recall@10 ≥ {TARGET_RECALL}: {speed}; build speed {build}"
        );
    }
    println!("\nFiltered HNSW search, default ef_search = 40 (recall against the exact filtered top-10):\n");
    if let Some(unfiltered) = report
        .custos
        .points
        .iter()
        .find(|point| point.setting == 40)
    {
        println!(
            "Unfiltered at ef_search 40: recall@10 {:.4}, {:.0} q/s. A filter accepting a \
             fraction s of the rows widens the candidate list to 40 / s (at most 8 × 40).\n",
            unfiltered.recall, unfiltered.qps
        );
    }
    println!(
        "| selectivity | recall@10 | q/s | queries with a wrong row count |\n|---:|---:|---:|---:|"
    );
    for (permille, recall, qps, short) in &report.filtered {
        println!(
            "| {:.1} % | {recall:.4} | {qps:.0} | {short} |",
            f64::from(*permille) / 10.0
        );
    }
    println!(
        "\nIVF-Flat, lists = {} (built in {:.2} s):\n\n| probes | recall@10 | q/s |\n|---:|---:|---:|",
        report.ivf_lists, report.ivf_build_seconds
    );
    for point in &report.ivf {
        println!(
            "| {} | {:.4} | {:.0} |",
            point.setting, point.recall, point.qps
        );
    }
}
