//! hnswlib and faiss, run by `benches/python/ann_baselines.py` on the same data: the script is
//! written to the scratch directory with the data as `.npy` files, run with `python3`, and its
//! `RESULT` / `ERROR` lines are parsed into curves. An engine that cannot run (package not
//! installed, no Python) carries an error instead of failing the benchmark.

use std::path::Path;
use std::process::Command;

use index::distance::distance;

use crate::data::{write_npy, Dataset};
use crate::report::{EngineCurve, Point};
use crate::{BenchResult, Settings, EF_CONSTRUCTION, EF_VALUES, K, M};

/// The baseline script, compiled into the binary so that it runs from any directory.
const PYTHON_SCRIPT: &str = include_str!("../../../python/ann_baselines.py");

/// Runs the Python baselines on `dataset`; engines that could not run carry an error.
pub(crate) fn run_python(
    dataset: &Dataset,
    settings: &Settings,
    scratch: &Path,
) -> Vec<(String, EngineCurve)> {
    let mut curves: Vec<(String, EngineCurve)> = ["hnswlib", "faiss"]
        .iter()
        .map(|name| (name.to_string(), EngineCurve::default()))
        .collect();
    let result = (|| -> BenchResult<String> {
        let script = scratch.join("ann_baselines.py");
        std::fs::write(&script, PYTHON_SCRIPT)?;
        let base = scratch.join("base.npy");
        let queries = scratch.join("queries.npy");
        let truth = scratch.join("truth.npy");
        let thresholds = scratch.join("thresholds.npy");
        let f32_words = |values: &[f32]| values.iter().map(|v| v.to_le_bytes()).collect::<Vec<_>>();
        write_npy(
            &base,
            "<f4",
            dataset.base_rows(),
            dataset.dim,
            &f32_words(&dataset.base),
        )?;
        write_npy(
            &queries,
            "<f4",
            dataset.query_count(),
            dataset.dim,
            &f32_words(&dataset.queries),
        )?;
        let truth_words: Vec<[u8; 4]> = dataset
            .truth
            .iter()
            .flat_map(|row| {
                (0..K).map(move |column| row.get(column).copied().unwrap_or(u32::MAX).to_le_bytes())
            })
            .collect();
        write_npy(&truth, "<i4", dataset.truth.len(), K, &truth_words)?;
        let threshold_words: Vec<[u8; 4]> = dataset
            .truth
            .iter()
            .enumerate()
            .map(|(query, row)| {
                let last = *row.last().unwrap_or(&0) as usize;
                let vector = &dataset.base[last * dataset.dim..(last + 1) * dataset.dim];
                distance(dataset.metric, dataset.query(query), vector).to_le_bytes()
            })
            .collect();
        write_npy(&thresholds, "<f4", dataset.truth.len(), 1, &threshold_words)?;
        let ef_list: Vec<String> = EF_VALUES.iter().map(usize::to_string).collect();
        let output = Command::new("python3")
            .arg(&script)
            .args(["--base".as_ref(), base.as_os_str()])
            .args(["--queries".as_ref(), queries.as_os_str()])
            .args(["--truth".as_ref(), truth.as_os_str()])
            .args(["--thresholds".as_ref(), thresholds.as_os_str()])
            .args([
                "--metric",
                "cosine",
                "--k",
                &K.to_string(),
                "--m",
                &M.to_string(),
            ])
            .args(["--ef-construction", &EF_CONSTRUCTION.to_string()])
            .args(["--ef-search", &ef_list.join(",")])
            .args(["--build-threads", &settings.threads.to_string()])
            .args(["--repeats", &settings.repeats.to_string()])
            .output()?;
        if !output.status.success() {
            return Err(format!(
                "python3 exited with {}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )
            .into());
        }
        for file in [base, queries, truth, thresholds, script] {
            let _ = std::fs::remove_file(file);
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    })();
    let output = match result {
        Ok(output) => output,
        Err(error) => {
            for (_, curve) in &mut curves {
                curve.error = Some(format!("could not run python3: {error}"));
            }
            return curves;
        }
    };
    for line in output.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(curve) = fields
            .get(1)
            .and_then(|engine| curves.iter_mut().find(|(name, _)| name == engine))
            .map(|(_, curve)| curve)
        else {
            continue;
        };
        match fields.as_slice() {
            ["RESULT", _, "build", seconds, cpu] => {
                curve.build_seconds = seconds.parse().ok();
                curve.build_cpu_seconds = cpu.parse().ok();
            }
            ["RESULT", _, "ef", ef, "recall", recall, "qps", qps] => {
                if let (Ok(setting), Ok(recall), Ok(qps)) =
                    (ef.parse(), recall.parse(), qps.parse())
                {
                    curve.points.push(Point {
                        setting,
                        recall,
                        qps,
                    });
                    eprintln!("  {} ef {ef}: recall {recall:.4}, {qps:.0} q/s", fields[1]);
                }
            }
            ["ERROR", _, ..] => curve.error = Some(fields[2..].join(" ")),
            _ => {}
        }
    }
    for (name, curve) in &mut curves {
        if curve.points.is_empty() && curve.error.is_none() {
            curve.error = Some(format!("{name} printed no results"));
        }
    }
    curves
}
