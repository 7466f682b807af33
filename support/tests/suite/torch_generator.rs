//! Facts that need libtorch's global generator and thread count to themselves.
//!
//! Every test in this binary draws from the same global generator, and the thread count
//! is process-wide, so "reseed, draw, reseed, draw the same" only holds when no other
//! test runs in between. The tests named `alone_*` are therefore ignored in the parallel
//! run, and one test re-runs them, one after another, in a child process of this binary.

use std::process::Command;
use support::fmp::{Fmp, Regions};
use support::models::leaky_dropout::leaky_relu_dropout;
use tch::nn::ModuleT;
use tch::{Device, Kind, Tensor};

/// How many `alone_*` tests this module holds; the parent checks that all of them ran.
const ALONE: usize = 5;

#[test]
fn the_tests_that_reseed_libtorch_pass_alone_in_a_child_process() {
    // Test names inside the suite binary are module paths without the crate name.
    let prefix = module_path!().trim_start_matches("suite::").to_string() + "::alone_";
    let output = Command::new(std::env::current_exe().unwrap())
        .args([prefix.as_str(), "--ignored", "--test-threads=1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = format!("test result: ok. {ALONE} passed");
    assert!(stdout.contains(&summary), "expected {summary:?}:\n{stdout}");
}

fn randn(shape: &[i64]) -> Tensor {
    Tensor::randn(shape, (Kind::Float, Device::Cpu))
}

#[test]
#[ignore = "run by the_tests_that_reseed_libtorch_pass_alone_in_a_child_process"]
fn alone_manual_seed_repeats_fresh_fmp_regions() {
    let x = randn(&[2, 3, 35, 35]);
    for variant in Regions::ALL {
        let layer = Fmp::new(25, variant);
        tch::manual_seed(11);
        let first = layer.forward_t(&x, true);
        tch::manual_seed(11);
        assert!(first.equal(&layer.forward_t(&x, true)), "{variant}");
    }
}

#[test]
#[ignore = "run by the_tests_that_reseed_libtorch_pass_alone_in_a_child_process"]
fn alone_manual_seed_repeats_the_dropout_masks_and_consecutive_calls_differ() {
    let x = randn(&[4, 8, 33, 33]);
    tch::manual_seed(7);
    let a = leaky_relu_dropout(&x, 0.2, 0.3, true);
    let b = leaky_relu_dropout(&x, 0.2, 0.3, true);
    tch::manual_seed(7);
    let c = leaky_relu_dropout(&x, 0.2, 0.3, true);
    assert!(a.equal(&c), "same seed, different masks");
    assert!(!a.equal(&b), "two calls drew the same mask");
}

#[test]
#[ignore = "run by the_tests_that_reseed_libtorch_pass_alone_in_a_child_process"]
fn alone_the_dropout_mask_does_not_depend_on_the_thread_count() {
    // 34,848 elements: split over two threads when two are set.
    let x = randn(&[4, 8, 33, 33]);
    let before = tch::get_num_threads();
    let mut masks = Vec::new();
    for threads in [1, 2] {
        tch::set_num_threads(threads);
        tch::manual_seed(8);
        masks.push(leaky_relu_dropout(&x, 0.2, 0.3, true));
    }
    tch::set_num_threads(before);
    assert!(masks[0].equal(&masks[1]));
}

#[test]
#[ignore = "run by the_tests_that_reseed_libtorch_pass_alone_in_a_child_process"]
fn alone_seed_before_building_gives_the_same_first_epoch_loss_whatever_ran_before() {
    use crate::train_util::{Tiny, config, dataset};
    let data = dataset(120, None, 30);
    let first_loss = |draws_before: i64| {
        let _ = randn(&[draws_before]); // other cells of the notebook, run or not
        support::seed(5);
        let vs = tch::nn::VarStore::new(Device::Cpu);
        let model = Tiny::standard(&vs.root());
        let tmp = tempfile::tempdir().unwrap();
        let history = support::train::fit(&model, &vs, &data, &config(tmp.path(), 1)).unwrap();
        history.records[0].train_loss
    };
    assert_eq!(first_loss(1), first_loss(1000));
}

/// Per-image draws in one call pool exactly as the images pooled one call each, in order,
/// from the same generator state: on contiguous and channels-last `f32` inputs (the Rust
/// kernels) and on `f64` (the tensor-op path other devices take), values and gradients.
#[test]
#[ignore = "run by the_tests_that_reseed_libtorch_pass_alone_in_a_child_process"]
fn alone_per_image_draws_in_one_call_equal_one_call_per_image() {
    for (kind, channels_last) in [
        (Kind::Float, false),
        (Kind::Float, true),
        (Kind::Double, false),
    ] {
        for regions in Regions::GRAHAM {
            tch::manual_seed(11);
            let x = Tensor::randn([6, 4, 25, 25], (kind, Device::Cpu));
            let x = if channels_last {
                support::layout::to_channels_last_on_cpu(&x)
            } else {
                x
            };
            assert_eq!(support::layout::is_channels_last(&x), channels_last);
            let batch = x.shallow_clone().set_requires_grad(true);
            tch::manual_seed(7);
            let together = Fmp::new(18, regions)
                .per_image()
                .try_forward(&batch)
                .unwrap();
            let weights = Tensor::randn([6, 4, 18, 18], (kind, Device::Cpu));
            let g_together = Tensor::run_backward(
                &[&(&together * &weights).sum(Kind::Float)],
                &[&batch],
                false,
                false,
            );
            let single = x.shallow_clone().set_requires_grad(true);
            tch::manual_seed(7);
            let parts: Vec<Tensor> = (0..6)
                .map(|i| {
                    Fmp::new(18, regions)
                        .try_forward(&single.narrow(0, i, 1))
                        .unwrap()
                })
                .collect();
            let apart = Tensor::cat(&parts, 0);
            let g_apart = Tensor::run_backward(
                &[&(&apart * &weights).sum(Kind::Float)],
                &[&single],
                false,
                false,
            );
            assert!(
                together.equal(&apart),
                "{regions}, channels-last {channels_last}: values"
            );
            assert!(
                g_together[0].equal(&g_apart[0]),
                "{regions}, channels-last {channels_last}: gradients"
            );
        }
    }
}
