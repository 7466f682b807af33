//! Run folders: what `fit` leaves on disk, reloading it, and `resume`.

use crate::train_util::{Tiny, config, dataset, max_diff, run_in};
/// The files a run folder holds: the on-disk contract that `cnn eval`, `cnn resume` and
/// `cnn report` read.
const FILES: [&str; 3] = ["checkpoint.safetensors", "history.csv", "config.json"];
use support::train::{FitConfig, fit, load_checkpoint, read_history, read_record, resume};
use tch::nn::ModuleT;
use tch::{Device, nn};

#[test]
fn artifacts_exist_and_the_checkpoint_reloads() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(80, Some(20), 20);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::standard(&vs.root());
    let history = fit(&model, &vs, &data, &config(tmp.path(), 2)).unwrap();
    let dir = &history.run_dir;
    for name in FILES {
        assert!(
            dir.join(name).is_file(),
            "{name} is missing from {}",
            dir.display()
        );
    }
    let events: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("events.out.tfevents.")
        })
        .collect();
    assert_eq!(events.len(), 1, "one TensorBoard event file");
    assert!(events[0].metadata().unwrap().len() > 100);

    let mut vs2 = nn::VarStore::new(Device::Cpu);
    let model2 = Tiny::standard(&vs2.root());
    load_checkpoint(&mut vs2, dir).unwrap();
    let x = tch::Tensor::randn([4, 1, 8, 8], (tch::Kind::Float, Device::Cpu));
    assert_eq!(
        max_diff(&model.forward_t(&x, false), &model2.forward_t(&x, false)),
        0.0
    );

    let run = dir.to_string_lossy();
    assert_eq!(read_history(&run).unwrap(), history.records);
    let record = read_record(&run).unwrap();
    assert_eq!(record.config.epochs, 2);
    assert_eq!(record.dataset, "synthetic-bands");
}

#[test]
fn resume_continues_the_epoch_count() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(80, None, 20);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::standard(&vs.root());
    fit(&model, &vs, &data, &config(tmp.path(), 2)).unwrap();

    let mut vs2 = nn::VarStore::new(Device::Cpu);
    let model2 = Tiny::standard(&vs2.root());
    let history = resume(&model2, &mut vs2, &data, &config(tmp.path(), 4)).unwrap();
    let epochs: Vec<i64> = history.records.iter().map(|r| r.epoch).collect();
    assert_eq!(epochs, [1, 2, 3, 4]);
    assert_eq!(
        read_history(&history.run_dir.to_string_lossy())
            .unwrap()
            .len(),
        4
    );
}

#[test]
fn a_checkpoint_of_another_model_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(40, None, 20);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::standard(&vs.root());
    let history = fit(&model, &vs, &data, &config(tmp.path(), 1)).unwrap();

    let mut other = nn::VarStore::new(Device::Cpu);
    let _bigger = Tiny::new(&other.root(), 1, 10, 3);
    let err = load_checkpoint(&mut other, &history.run_dir).unwrap_err();
    assert!(
        err.to_string().contains("does not match this model"),
        "{err}"
    );
}

#[test]
fn resuming_a_missing_run_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(40, None, 20);
    let mut vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::standard(&vs.root());
    let cfg = FitConfig {
        run: Some(run_in(tmp.path(), "never-ran")),
        ..config(tmp.path(), 2)
    };
    let err = resume(&model, &mut vs, &data, &cfg)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("there is no run folder") && err.contains("never-ran"),
        "{err}"
    );
}
