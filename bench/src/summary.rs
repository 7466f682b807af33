//! What `cnn bench` reports: each side's median and spread over its repeats, the ratios of
//! the crate's medians to each peer's, the printed table, and the JSON document.

use crate::{Group, Side};
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// One side's measurement, as its process prints it (one JSON line).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    /// Training images per second, timed after 3 warm-up steps.
    pub images_per_s: f64,
    /// Test images per second, each scored with the group's number of passes.
    pub eval_images_per_s: f64,
    pub test_acc: f64,
    /// The process's peak resident memory (and its largest child's, for DataLoader workers).
    pub peak_rss_mb: f64,
    /// The evaluation batch the side used.
    pub eval_batch: usize,
    /// Seconds of the untimed warm-up steps (with torch.compile: the compilation).
    pub warmup_s: f64,
    /// The memory layout the tuned peer chose by timing (`channels-last` or `nchw`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<String>,
}

/// The median of some repeats and their range.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: impl IntoIterator<Item = f64>) -> Spread {
        let mut v: Vec<f64> = values.into_iter().collect();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = match n {
            0 => f64::NAN,
            _ if n % 2 == 1 => v[n / 2],
            _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        };
        Spread {
            median,
            min: v.first().copied().unwrap_or(f64::NAN),
            max: v.last().copied().unwrap_or(f64::NAN),
        }
    }
}

impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.0} ({:.0}-{:.0})", self.median, self.min, self.max)
    }
}

/// One side of a group, summarised.
#[derive(Debug, Serialize)]
pub struct SideResult {
    pub side: String,
    pub training_images_per_s: Spread,
    pub evaluation_images_per_s: Spread,
    pub test_acc: Spread,
    pub peak_rss_mb: f64,
    /// The evaluation batches and layouts the repeats used, such as `64/128`.
    pub eval_batch: String,
    pub layout: String,
    pub warmup_s: Spread,
    pub runs: Vec<Run>,
}

/// The distinct values among `values`, in first-seen order, joined by `/`.
fn distinct(values: impl IntoIterator<Item = String>) -> String {
    let mut seen: Vec<String> = Vec::new();
    for v in values {
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    seen.join("/")
}

/// The crate's median over a peer's, for training and for evaluation.
#[derive(Debug, Serialize)]
pub struct Ratio {
    pub row: String,
    pub peer: String,
    pub training: f64,
    pub evaluation: f64,
}

impl std::fmt::Display for Ratio {
    /// The two lines `cnn bench` has always printed, `ratio <row> vs <peer>: <x>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "ratio {} vs {}: {:.2}",
            self.row, self.peer, self.training
        )?;
        write!(
            f,
            "ratio {} evaluation vs {}: {:.2}",
            self.row, self.peer, self.evaluation
        )
    }
}

/// A group's work, every side's summary, and the ratios of each crate side to each peer.
#[derive(Debug, Serialize)]
pub struct GroupResult {
    pub model: String,
    pub batch: usize,
    pub augmentation: String,
    pub test_passes: usize,
    pub test_images: usize,
    pub training: String,
    pub sides: Vec<SideResult>,
    pub ratios: Vec<Ratio>,
}

/// One line saying what every side of `group` does.
pub fn describe(group: &Group) -> String {
    format!(
        "{}, batch {}, {}; training {}; evaluation: {} test image(s) x {} pass(es)",
        group.model,
        group.batch,
        augmentation(group),
        training(group),
        group.budget.test_images,
        group.passes
    )
}

/// How long each side trains: `one epoch` or `10 s`.
fn training(group: &Group) -> String {
    group
        .budget
        .seconds
        .map_or("one epoch".into(), |s| format!("{s} s"))
}

fn augmentation(group: &Group) -> String {
    if group.rotation > 0.0 {
        format!("random rotation {} deg (the course's)", group.rotation)
    } else {
        "no augmentation".into()
    }
}

impl GroupResult {
    /// Summarises `runs[i]`, the repeats of `group.sides[i]`.
    pub fn new(group: &Group, runs: Vec<Vec<Run>>) -> GroupResult {
        let sides: Vec<SideResult> = group
            .sides
            .iter()
            .zip(runs)
            .map(|(side, runs)| SideResult {
                side: side.name(),
                training_images_per_s: Spread::of(runs.iter().map(|r| r.images_per_s)),
                evaluation_images_per_s: Spread::of(runs.iter().map(|r| r.eval_images_per_s)),
                test_acc: Spread::of(runs.iter().map(|r| r.test_acc)),
                peak_rss_mb: runs.iter().map(|r| r.peak_rss_mb).fold(f64::NAN, f64::max),
                eval_batch: distinct(runs.iter().map(|r| r.eval_batch.to_string())),
                layout: distinct(runs.iter().filter_map(|r| r.layout.clone())),
                warmup_s: Spread::of(runs.iter().map(|r| r.warmup_s)),
                runs,
            })
            .collect();
        let mut ratios = Vec::new();
        for (ours, side) in sides.iter().zip(&group.sides) {
            if !matches!(side, Side::Crate(_)) {
                continue;
            }
            for (peer, peer_side) in sides.iter().zip(&group.sides) {
                if matches!(peer_side, Side::Crate(_)) {
                    continue;
                }
                ratios.push(Ratio {
                    row: group.row(*side),
                    peer: peer.side.clone(),
                    training: ours.training_images_per_s.median / peer.training_images_per_s.median,
                    evaluation: ours.evaluation_images_per_s.median
                        / peer.evaluation_images_per_s.median,
                });
            }
        }
        GroupResult {
            model: group.model.clone(),
            batch: group.batch,
            augmentation: augmentation(group),
            test_passes: group.passes,
            test_images: group.budget.test_images,
            training: training(group),
            sides,
            ratios,
        }
    }

    /// The sides as a table: medians with min-max, then the group's ratios.
    pub fn table(&self) -> String {
        let mut t = format!(
            "  {:<40} {:>22} {:>22} {:>10} {:>9} {:>9} {:>9}\n",
            "side (median, min-max)",
            "training images/s",
            "evaluation images/s",
            "eval batch",
            "test acc",
            "RSS MiB",
            "warm-up s"
        );
        for s in &self.sides {
            let _ = writeln!(
                t,
                "  {:<40} {:>22} {:>22} {:>10} {:>9.4} {:>9.0} {:>9.1}",
                match s.layout.as_str() {
                    "" => s.side.clone(),
                    layout => format!("{} [{layout}]", s.side),
                },
                s.training_images_per_s.to_string(),
                s.evaluation_images_per_s.to_string(),
                s.eval_batch,
                s.test_acc.median,
                s.peak_rss_mb,
                s.warmup_s.median
            );
        }
        for r in &self.ratios {
            let _ = writeln!(
                t,
                "  {} vs {}: training {:.2}, evaluation {:.2}",
                r.row, r.peer, r.training, r.evaluation
            );
        }
        t
    }
}

/// Everything one `cnn bench` measured, for `--json`.
#[derive(Debug, Serialize)]
pub struct Document {
    pub device: String,
    pub threads: i32,
    pub quick: bool,
    pub repeats: usize,
    pub compile: bool,
    pub groups: Vec<GroupResult>,
}

impl Document {
    /// Writes the document (atomically: a reader never sees half of it).
    pub fn write(&self, path: &Path) -> Result<()> {
        support::atomic::write(path, serde_json::to_string_pretty(self)?.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Budget, Group};
    use support::fmp::Regions;

    fn run(images_per_s: f64, eval_images_per_s: f64) -> Run {
        Run {
            images_per_s,
            eval_images_per_s,
            test_acc: 0.5,
            peak_rss_mb: 100.0,
            eval_batch: 64,
            warmup_s: 0.1,
            layout: None,
        }
    }

    fn fmp_group() -> Group {
        Group::new(
            "fmp-mnist",
            32,
            Budget {
                seconds: None,
                test_images: 10_000,
            },
            vec![
                Side::Crate(Some(Regions::Native)),
                Side::Crate(Some(Regions::PseudorandomOverlapping)),
                Side::Tuned,
            ],
        )
    }

    #[test]
    fn spread_is_the_median_and_range() {
        let s = Spread::of([3.0, 1.0, 2.0]);
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        assert_eq!(Spread::of([4.0, 1.0, 2.0, 3.0]).median, 2.5);
        assert!(Spread::of([]).median.is_nan());
    }

    #[test]
    fn ratios_compare_each_crate_side_with_each_peer_by_medians() {
        let mut runs = vec![
            vec![run(100.0, 1000.0), run(300.0, 900.0), run(200.0, 1100.0)],
            vec![run(90.0, 500.0); 3],
            vec![run(50.0, 2000.0), run(400.0, 250.0), run(100.0, 500.0)],
        ];
        runs[2][1].eval_batch = 128;
        runs[2][0].layout = Some("nchw".into());
        let result = GroupResult::new(&fmp_group(), runs);
        let lines: Vec<String> = result.ratios.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            lines,
            [
                "ratio fmp-mnist-native-b32 vs pytorch-tuned: 2.00\n\
                 ratio fmp-mnist-native-b32 evaluation vs pytorch-tuned: 2.00",
                "ratio fmp-mnist-graham-b32 vs pytorch-tuned: 0.90\n\
                 ratio fmp-mnist-graham-b32 evaluation vs pytorch-tuned: 1.00",
            ]
        );
        let table = result.table();
        assert!(table.contains("cnn (native)"), "{table}");
        assert!(table.contains("200 (100-300)"), "{table}");
        assert!(
            table.contains("cnn (graham: pseudorandom-overlapping)"),
            "{table}"
        );
    }

    #[test]
    fn the_json_document_holds_every_run_and_ratio() {
        let group = fmp_group();
        let doc = Document {
            device: "cpu".into(),
            threads: 2,
            quick: false,
            repeats: 2,
            compile: false,
            groups: vec![GroupResult::new(
                &group,
                vec![vec![run(1.0, 2.0), run(3.0, 4.0)]; 3],
            )],
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bench.json");
        doc.write(&path).unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let g = &v["groups"][0];
        assert_eq!(g["test_passes"], 12);
        assert_eq!(g["sides"][2]["side"], "pytorch-tuned");
        assert_eq!(g["sides"][0]["runs"].as_array().unwrap().len(), 2);
        assert_eq!(g["sides"][0]["training_images_per_s"]["median"], 2.0);
        assert_eq!(g["ratios"].as_array().unwrap().len(), 2);
        assert_eq!(g["ratios"][0]["row"], "fmp-mnist-native-b32");
    }
}
