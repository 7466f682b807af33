//! Evaluation, repeated passes and epoch-time estimates.

use crate::train_util::{Tiny, dataset, max_diff};
use support::train::{EvalOpts, ensemble_curve, estimate_epoch_time, evaluate, predict_repeated};
use tch::nn::ModuleT;
use tch::{Device, Kind, Tensor, nn};

fn one_pass_probabilities(model: &Tiny, data: &support::data::Dataset) -> Tensor {
    let opts = support::data::BatchOpts::new(data, 7, Device::Cpu);
    let parts: Vec<Tensor> = data
        .test
        .batches(&opts)
        .map(|(x, _)| model.forward_t(&x, false).softmax(-1, Kind::Float))
        .collect();
    Tensor::cat(&parts, 0)
}

#[test]
fn predict_repeated_with_one_pass_equals_one_forward_pass() {
    let data = dataset(20, None, 30);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::standard(&vs.root());
    let p = predict_repeated(&model, &data, &EvalOpts::new(Device::Cpu), 1).unwrap();
    assert!(max_diff(&p, &one_pass_probabilities(&model, &data)) < 1e-6);
}

#[test]
fn a_deterministic_models_repeated_passes_agree_with_one_pass() {
    let data = dataset(20, None, 30);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::standard(&vs.root());
    let opts = EvalOpts::new(Device::Cpu);
    let one = predict_repeated(&model, &data, &opts, 1).unwrap();
    let eight = predict_repeated(&model, &data, &opts, 8).unwrap();
    assert!(max_diff(&one, &eight) < 1e-6);
}

#[test]
fn a_random_models_repeated_passes_average_to_probabilities() {
    let data = dataset(20, None, 30);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::noisy(&vs.root());
    let opts = EvalOpts::new(Device::Cpu);
    let one = predict_repeated(&model, &data, &opts, 1).unwrap();
    let four = predict_repeated(&model, &data, &opts, 4).unwrap();
    assert!(
        max_diff(&one, &four) > 1e-4,
        "four noisy passes equal one pass"
    );
    let sums = four.sum_dim_intlist(-1, false, Kind::Float);
    assert!(max_diff(&sums, &Tensor::ones_like(&sums)) < 1e-5);
}

#[test]
fn ensemble_curve_has_one_row_per_pass_count() {
    let data = dataset(20, None, 30);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::noisy(&vs.root());
    let ensemble = ensemble_curve(&model, &data, &EvalOpts::new(Device::Cpu), &[1, 2, 4]).unwrap();
    let curve = &ensemble.frame;
    let passes: Vec<i64> = curve
        .column("passes")
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(passes, [1, 2, 4]);
    let err = curve.column("error").unwrap().f64().unwrap();
    let acc = curve.column("accuracy").unwrap().f64().unwrap();
    for (e, a) in err.into_no_null_iter().zip(acc.into_no_null_iter()) {
        assert!((e + a - 1.0).abs() < 1e-12 && (0.0..=1.0).contains(&a));
    }
    assert_eq!(ensemble.accuracy(2).unwrap(), acc.get(1).unwrap());
    let msg = ensemble.accuracy(12).unwrap_err().to_string();
    assert!(msg.contains("[1, 2, 4]") && msg.contains("not 12"), "{msg}");
}

#[test]
fn the_confusion_matrix_counts_every_test_image_once() {
    let data = dataset(20, None, 30);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::standard(&vs.root());
    let eval = evaluate(&model, &data, &EvalOpts::new(Device::Cpu)).unwrap();
    let c = &eval.confusion;
    assert_eq!(c.get_column_names()[0].as_str(), "class");
    assert_eq!(c.width(), 4);
    let (mut total, mut diagonal) = (0, 0);
    for (j, name) in data.classes.iter().enumerate() {
        let col: Vec<i64> = c
            .column(name)
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        total += col.iter().sum::<i64>();
        diagonal += col[j];
    }
    assert_eq!(total, 30);
    assert!((diagonal as f64 / 30.0 - eval.accuracy).abs() < 1e-12);
    assert_eq!(eval.predictions.size(), [30]);
}

#[test]
fn estimating_the_epoch_time_leaves_the_weights_unchanged() {
    let data = dataset(100, None, 30);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = Tiny::standard(&vs.root());
    let x = Tensor::randn([4, 1, 8, 8], (Kind::Float, Device::Cpu));
    let before = model.forward_t(&x, false);
    let estimate = estimate_epoch_time(&model, &vs, &data, 10).unwrap();
    assert_eq!(max_diff(&before, &model.forward_t(&x, false)), 0.0);
    assert_eq!(estimate.batches_per_epoch, 10);
    assert!(estimate.seconds_per_batch > 0.0);
}
