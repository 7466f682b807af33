//! `fit`: the loss falls, the history is complete, bad input is a sentence.

use crate::train_util::{Tiny, config, dataset, run_in};
use polars::prelude::DataType;
use support::train::{Diverged, FitConfig, LrSchedule, Optimizer, fit};
use tch::{Device, Kind, Tensor, nn};

#[test]
fn training_lowers_the_loss() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(300, None, 60);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::standard(&vs.root());
    let history = fit(&model, &vs, &data, &config(tmp.path(), 4)).unwrap();
    let first = history.records[0].train_loss;
    let last = history.records[3].train_loss;
    assert!(
        last < 0.7 * first,
        "the loss went from {first} to {last}, not down"
    );
}

#[test]
fn history_has_one_complete_row_per_epoch() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(120, Some(30), 30);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::standard(&vs.root());
    let history = fit(&model, &vs, &data, &config(tmp.path(), 3)).unwrap();
    let frame = &history.frame;
    let names: Vec<&str> = frame
        .get_column_names()
        .iter()
        .map(|n| n.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "epoch",
            "lr",
            "train_loss",
            "train_acc",
            "val_loss",
            "val_acc",
            "seconds",
            "images_per_s"
        ]
    );
    assert_eq!(frame.height(), 3);
    assert_eq!(frame.column("epoch").unwrap().dtype(), &DataType::Int64);
    let epochs: Vec<i64> = frame
        .column("epoch")
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(epochs, [1, 2, 3]);
    for name in &names[1..] {
        let col = frame.column(name).unwrap();
        assert_eq!(col.dtype(), &DataType::Float64, "column {name}");
        assert_eq!(
            col.null_count(),
            0,
            "column {name} has nulls although there is validation"
        );
    }
}

#[test]
fn history_without_validation_has_null_validation_columns() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(60, None, 30);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::standard(&vs.root());
    let history = fit(&model, &vs, &data, &config(tmp.path(), 2)).unwrap();
    assert_eq!(history.frame.column("val_loss").unwrap().null_count(), 2);
    assert_eq!(history.frame.column("val_acc").unwrap().null_count(), 2);
    assert_eq!(history.frame.column("train_acc").unwrap().null_count(), 0);
}

#[test]
fn a_huge_learning_rate_is_reported_as_divergence() {
    let tmp = tempfile::tempdir().unwrap();
    // Labels that contradict the images: no weights fit them, so huge steps swing the
    // weights to huge values and the loss explodes (a separable set would just converge).
    let mut data = dataset(200, None, 30);
    data.train.labels =
        (&data.train.labels + Tensor::arange(200, (Kind::Int64, Device::Cpu))).remainder(3);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::standard(&vs.root());
    let cfg = FitConfig {
        optimizer: Optimizer::Sgd {
            momentum: 0.9,
            nesterov: true,
        },
        schedule: LrSchedule::Constant(1e6),
        ..config(tmp.path(), 3)
    };
    let err = fit(&model, &vs, &data, &cfg).unwrap_err();
    let diverged = err.downcast_ref::<Diverged>().expect("a Diverged error");
    assert_eq!(diverged.epoch, 1);
    assert!(err.to_string().contains("learning rate"), "{err}");
}

#[test]
fn a_batch_larger_than_the_data_set_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(20, None, 10);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::standard(&vs.root());
    let cfg = FitConfig {
        batch_size: 64,
        ..config(tmp.path(), 1)
    };
    let err = fit(&model, &vs, &data, &cfg).unwrap_err().to_string();
    assert!(err.contains("larger than the 20 training images"), "{err}");
}

#[test]
fn a_model_for_other_channels_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(20, None, 10);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::new(&vs.root(), 3, 8, 3);
    let err = fit(&model, &vs, &data, &config(tmp.path(), 1))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("3-channel") && err.contains("in_channels = 1"),
        "{err}"
    );
}

#[test]
fn images_larger_than_the_model_input_are_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(20, None, 10);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::new(&vs.root(), 1, 6, 3);
    let err = fit(&model, &vs, &data, &config(tmp.path(), 1))
        .unwrap_err()
        .to_string();
    assert!(err.contains("at most 6x6") && err.contains("8x8"), "{err}");
}

#[test]
fn a_model_with_the_wrong_class_count_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(20, None, 10);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::new(&vs.root(), 1, 8, 10);
    let err = fit(&model, &vs, &data, &config(tmp.path(), 1))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("outputs 10 scores") && err.contains("3 classes"),
        "{err}"
    );
}

#[test]
fn an_unwritable_runs_folder_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("not-a-folder");
    std::fs::write(&blocker, b"a file where the runs folder should be").unwrap();
    let data = dataset(20, None, 10);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::standard(&vs.root());
    let cfg = FitConfig {
        run: Some(run_in(&blocker, "run")),
        ..config(tmp.path(), 1)
    };
    let err = format!("{:#}", fit(&model, &vs, &data, &cfg).unwrap_err());
    assert!(err.contains("CNN_RUNS_DIR"), "{err}");
}

#[test]
fn lecun_schedule_matches_the_paper() {
    let s = LrSchedule::lecun();
    let rates: Vec<f64> = (1..=14).map(|e| s.lr(e)).collect();
    assert_eq!(
        rates,
        [
            5e-4, 5e-4, 2e-4, 2e-4, 2e-4, 1e-4, 1e-4, 1e-4, 5e-5, 5e-5, 5e-5, 5e-5, 1e-5, 1e-5
        ]
    );
}

#[test]
fn graham_schedule_is_0_01_times_exp_minus_0_01_epoch() {
    let s = LrSchedule::graham_mnist();
    assert_eq!(s.lr(1), 0.01);
    assert!((s.lr(101) - 0.01 * (-1.0f64).exp()).abs() < 1e-15);
}
