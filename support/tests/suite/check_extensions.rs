//! The extensions' check: a variant run against its notebook's run, read from their
//! folders. Tiny FMP nets on the synthetic bands, trained for real.

use crate::train_util::{config, dataset};
use support::check;
use support::models::{Dropout, FmpConfig, FmpNet};
use support::train::{FitConfig, fit};
use tch::{Device, nn};

/// Trains a tiny FMP net with `dropout` as run `name` in `dir`, with `fit_config`'s
/// settings; returns the run's path, as a run name.
fn train(dir: &std::path::Path, name: &str, dropout: Dropout, fit_config: FitConfig) -> String {
    let run = dir.join(name).to_string_lossy().into_owned();
    let data = dataset(48, Some(16), 16);
    support::seed(0);
    let vs = nn::VarStore::new(Device::Cpu);
    let net_config = FmpConfig {
        classes: 3,
        dropout,
        ..FmpConfig::tiny()
    };
    let model = FmpNet::new(&vs.root(), net_config).unwrap();
    let fit_config = FitConfig {
        run: Some(run.clone()),
        ..fit_config
    };
    fit(&model, &vs, &data, &fit_config).unwrap();
    run
}

#[test]
fn a_variant_with_the_change_and_nothing_else_passes() {
    let tmp = tempfile::tempdir().unwrap();
    train(tmp.path(), "502-fmp", Dropout::NONE, config(tmp.path(), 1));
    let run = train(
        tmp.path(),
        "502-fmp-e1",
        Dropout::Linear(0.5),
        config(tmp.path(), 2),
    );
    let passed = check::extension("502.E1", &run).unwrap();
    assert_eq!(passed.exercise, "502.E1");
    assert!(passed.summary.contains("nothing else"), "{passed}");
}

#[test]
fn a_variant_without_the_change_or_with_another_gets_each_named() {
    let tmp = tempfile::tempdir().unwrap();
    train(tmp.path(), "502-fmp", Dropout::NONE, config(tmp.path(), 1));
    let other_batch = FitConfig {
        batch_size: 8,
        ..config(tmp.path(), 1)
    };
    let run = train(tmp.path(), "502-fmp-e1", Dropout::NONE, other_batch);
    let err = format!("{:#}", check::extension("502.E1", &run).unwrap_err());
    assert!(err.starts_with("✗ Exercise 502.E1:"), "{err}");
    assert!(err.contains("dropout is still off"), "{err}");
    assert!(
        err.contains("trained 1 epoch(s) against 502-fmp's 1"),
        "{err}"
    );
    assert!(
        err.contains("config.batch_size: 16 in 502-fmp, 8 in"),
        "{err}"
    );
}

#[test]
fn a_variant_that_stopped_early_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    train(tmp.path(), "502-fmp", Dropout::NONE, config(tmp.path(), 1));
    let run = train(
        tmp.path(),
        "502-fmp-e3",
        Dropout::NONE,
        config(tmp.path(), 1),
    );
    // Its regions changed, as E3 asks, but only half its epochs are in its history.
    let record = std::path::Path::new(&run).join("config.json");
    let text = std::fs::read_to_string(&record).unwrap();
    let text = text
        .replace("pseudorandom-overlapping", "random-overlapping")
        .replace("\"epochs\": 1", "\"epochs\": 2");
    std::fs::write(&record, text).unwrap();
    let err = format!("{:#}", check::extension("502.E3", &run).unwrap_err());
    assert!(err.contains("stopped in epoch 2 of 2"), "{err}");
    assert!(err.contains("config.epochs: 1 in 502-fmp, 2 in"), "{err}");
    assert!(
        !err.contains("regions"),
        "the regions are E3's change: {err}"
    );
}

#[test]
fn the_notebooks_own_run_an_unknown_extension_and_a_missing_base_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let own = tmp.path().join("502-fmp").to_string_lossy().into_owned();
    let err = format!("{:#}", check::extension("502.E1", &own).unwrap_err());
    assert!(
        err.contains("a run of its own") && err.contains("502-fmp-e1"),
        "{err}"
    );
    let err = format!("{:#}", check::extension("502.E9", &own).unwrap_err());
    assert!(err.contains("502.E1, 502.E2"), "{err}");
    let variant = tmp.path().join("502-fmp-e1").to_string_lossy().into_owned();
    let err = format!("{:#}", check::extension("502.E1", &variant).unwrap_err());
    assert!(
        err.contains("run its training cell as it is first"),
        "{err}"
    );
}
