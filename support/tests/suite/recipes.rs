//! Each recipe's settings, checked against its source: schedule per epoch, dropout per
//! block, slope, regions and parameter count.

use support::data::Augment;
use support::fmp::Regions;
use support::models::lenet::PaperDetails;
use support::models::{ModelSpec, parameter_count};
use support::recipes::{self, Family, Recipe};

/// Graham's "very leaky" ReLU slope.
const GRAHAM_LEAKY_SLOPE: f64 = 1.0 / 3.0;
use support::train::{LrSchedule, Optimizer};
use tch::{Device, nn};

fn parameters(recipe: &Recipe) -> i64 {
    let vs = nn::VarStore::new(Device::Cpu);
    recipe.model.build(&vs.root()).unwrap();
    parameter_count(&vs)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

/// `(F n C2 - FMP)_L - C2 - C1` for one input channel and ten classes, without BatchNorm.
fn fmp_parameters(layers: i64, growth: i64) -> i64 {
    let mut total = 0;
    let mut width = 1;
    for n in 1..=layers {
        total += 4 * width * growth * n + growth * n;
        width = growth * n;
    }
    let head = growth * (layers + 1);
    total + 4 * width * head + head + head * 10 + 10
}

#[test]
fn graham_mnist_is_his_net_and_his_sgd_schedule_from_0_01() {
    for (name, regions) in [
        ("graham-mnist", Regions::PseudorandomOverlapping),
        ("graham-mnist-random", Regions::RandomOverlapping),
    ] {
        let r = recipes::recipe(name).unwrap();
        let ModelSpec::Fmp(net) = &r.model else {
            panic!("{name} is not an FMP net")
        };
        assert_eq!(net.regions, regions);
        assert_eq!((net.layers, net.growth), (6, 32));
        assert!(close(net.alpha, 2f64.sqrt()));
        assert!(!net.batch_norm, "the paper has no BatchNorm");
        assert!(net.unit_variance_init, "so that SGD trains at 0.01");
        assert!(close(net.leaky_slope, 1.0 / 3.0) && net.leaky_slope == GRAHAM_LEAKY_SLOPE);
        assert_eq!(
            net.dropout.rates(6).unwrap(),
            vec![0.0, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
        );
        assert_eq!(net.regions_seed, None, "new regions every pass");
        assert_eq!(parameters(&r), fmp_parameters(6, 32));
        assert_eq!(r.fit.batch_size, 100);
        assert!(
            matches!(r.fit.optimizer, Optimizer::Sgd { momentum, nesterov: false } if momentum == 0.9)
        );
        for epoch in [1usize, 2, 11, 100] {
            let want = 0.01 * (-0.01 * (epoch - 1) as f64).exp();
            assert!(
                close(r.fit.schedule.lr(epoch), want),
                "{name} epoch {epoch}"
            );
        }
        assert_eq!(r.fit.augment, Augment::affine_distortion());
        assert_eq!(r.passes, 12);
        assert_eq!(r.family, Family::Mnist);
    }
}

#[test]
fn lecun_1998_is_the_60000_parameter_net_with_the_paper_details_and_its_schedule() {
    let r = recipes::recipe("lecun-1998").unwrap();
    let ModelSpec::Lenet5(net) = &r.model else {
        panic!("lecun-1998 is not LeNet-5")
    };
    assert_eq!(net.paper, PaperDetails::ALL);
    assert_eq!(parameters(&r), 60_000);
    assert_eq!(r.fit.epochs, 20);
    // The paper's rates for passes 1-2, 3-5, 6-8, 9-12 and after.
    let paper = [
        0.0005, 0.0005, 0.0002, 0.0002, 0.0002, 0.0001, 0.0001, 0.0001,
    ];
    let paper = paper.iter().chain(&[0.00005; 4]).chain(&[0.00001; 8]);
    // The recipe's Adam rates: five steps of 4 passes.
    let adam = [0.003, 0.001, 0.0003, 0.0001, 0.00003]
        .map(|r| [r; 4])
        .concat();
    for ((epoch, rate), adam) in (1..=20).zip(paper).zip(adam) {
        assert!(close(r.fit.schedule.lr(epoch), adam), "epoch {epoch}");
        assert!(close(LrSchedule::lecun().lr(epoch), *rate), "epoch {epoch}");
    }
    assert_eq!(
        (
            r.fit.optimizer.clone(),
            r.fit.weight_decay,
            r.fit.batch_size
        ),
        (Optimizer::AdamW, 0.2, 64)
    );
    assert_eq!(r.fit.augment, Augment::none());
    assert_eq!(r.passes, 1);
    let d = recipes::recipe("lecun-1998-distorted").unwrap();
    assert_eq!(d.model, r.model);
    assert_eq!(d.fit.augment, Augment::affine_distortion());
    // The distortions hold the weights back themselves; 0.81 % was measured without decay.
    assert_eq!(
        (d.fit.optimizer.clone(), d.fit.weight_decay),
        (Optimizer::Adam, 0.0)
    );
    assert_eq!(d.published.as_ref().unwrap().one_pass, 0.8);
}

#[test]
fn lecun_1998_sdlm_is_lecun_1998_with_the_papers_optimizer_and_rates() {
    let r = recipes::recipe("lecun-1998-sdlm").unwrap();
    let adam = recipes::recipe("lecun-1998").unwrap();
    assert_eq!(r.model, adam.model);
    assert_eq!(r.fit.epochs, 20);
    assert_eq!(r.fit.schedule, LrSchedule::lecun());
    assert_eq!(r.fit.weight_decay, 0.0);
    assert!(r.deviations.iter().all(|d| !d.contains("Weight decay")));
    assert_eq!(
        (r.fit.optimizer.clone(), r.fit.batch_size),
        (
            Optimizer::Sdlm {
                mu: 1.0,
                samples: 500
            },
            16
        )
    );
    assert_eq!(r.fit.augment, Augment::none());
    assert_eq!(r.published.as_ref().unwrap().one_pass, 0.95);
    assert!(r.deviations[0].contains("mu = 0.02"), "{:?}", r.deviations);
}

#[test]
fn course_recipes_are_the_notebooks_adam_runs() {
    for (name, epochs, passes) in [
        ("course-502", 4, 12),
        ("course-503", 5, 1),
        ("course-501", 5, 12),
    ] {
        let r = recipes::recipe(name).unwrap();
        assert_eq!(r.fit.epochs, epochs, "{name}");
        assert_eq!(r.fit.batch_size, 64);
        assert_eq!(r.fit.optimizer, Optimizer::Adam);
        let rates: Vec<f64> = (1..=epochs).map(|e| r.fit.schedule.lr(e)).collect();
        let want = if name == "course-502" {
            vec![0.003, 0.001, 0.0003, 0.0001]
        } else {
            vec![1e-3; epochs]
        };
        assert_eq!(rates, want, "{name}");
        assert_eq!(r.passes, passes);
        assert!(r.published.is_none(), "{name} has no paper number");
    }
    let ModelSpec::Fmp(net) = recipes::recipe("course-502").unwrap().model else {
        panic!()
    };
    assert!(net.batch_norm && net.leaky_slope == 0.2 && net.per_image_regions);
    let r = recipes::recipe("course-502").unwrap();
    assert_eq!(
        r.fit.augment,
        Augment::none(),
        "502 trains without the rotation"
    );
    assert_eq!(net.dropout.rates(6).unwrap(), vec![0.0; 7]);
}

#[test]
fn cpu_30min_is_the_course_net_for_20_decaying_epochs_on_distorted_digits() {
    let r = recipes::recipe("cpu-30min").unwrap();
    assert_eq!(r.model, recipes::recipe("course-502").unwrap().model);
    assert_eq!((r.fit.epochs, r.fit.batch_size), (20, 64));
    assert_eq!(r.fit.optimizer, Optimizer::Adam);
    assert!(close(r.fit.schedule.lr(1), 0.003));
    assert!(close(r.fit.schedule.lr(5), 0.003 * (-1.0f64).exp()));
    assert!(r.fit.schedule.lr(20) < 0.00003);
    assert_eq!(r.fit.augment, Augment::affine_distortion());
    assert_eq!((r.passes, r.family), (12, Family::Mnist));
    assert!(r.published.is_none() && !r.deviations.is_empty());
}

#[test]
fn graham_cifar10_is_the_12_block_net_of_growth_160() {
    let r = recipes::recipe("graham-cifar10").unwrap();
    let ModelSpec::Fmp(net) = &r.model else {
        panic!()
    };
    assert_eq!((net.in_channels, net.layers, net.growth), (3, 12, 160));
    assert!(close(net.alpha, 2f64.powf(1.0 / 3.0)));
    assert!(!net.batch_norm && net.leaky_slope == GRAHAM_LEAKY_SLOPE);
    assert!(matches!(r.fit.optimizer, Optimizer::Sgd { momentum, .. } if momentum == 0.99));
    assert_eq!(r.fit.batch_size, 50);
    assert!(close(r.fit.schedule.lr(201), 0.003 * (-1.0f64).exp()));
    assert_eq!(r.family, Family::Cifar10);
}

#[test]
fn every_recipe_is_listed_named_serialisable_and_sourced() {
    let all = recipes::all();
    let names = [
        "graham-mnist",
        "graham-mnist-random",
        "lecun-1998",
        "lecun-1998-distorted",
        "lecun-1998-sdlm",
        "course-502",
        "course-503",
        "course-501",
        "cpu-30min",
        "graham-cifar10",
    ];
    assert_eq!(all.len(), names.len());
    for (r, name) in all.iter().zip(names) {
        assert_eq!(r.name, name);
        assert!(!r.source.is_empty());
        let json = serde_json::to_string(r).unwrap();
        let back: Recipe = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, r, "{name} does not survive JSON");
        assert!(r.to_string().starts_with(name));
    }
    let err = recipes::recipe("graham").unwrap_err().to_string();
    assert!(
        err.contains("unknown recipe") && err.contains("graham-mnist, graham-mnist-random"),
        "{err}"
    );
}

#[test]
fn a_compressed_schedule_runs_the_whole_course_in_fewer_epochs() {
    let graham = LrSchedule::graham_mnist().compressed(100, 20);
    assert!(close(graham.lr(21), LrSchedule::graham_mnist().lr(101)));
    let lecun = LrSchedule::lecun().compressed(20, 10);
    let rates: Vec<f64> = (1..=8).map(|e| lecun.lr(e)).collect();
    // 2, 3, 3, 4 epochs become 1, 2 (1.5 rounded), 2, 2.
    let want = [
        0.0005, 0.0002, 0.0002, 0.0001, 0.0001, 0.00005, 0.00005, 0.00001,
    ];
    assert_eq!(rates, want);
}

#[test]
fn a_weight_decay_override_renames_the_recipe_and_states_the_change() {
    let r = recipes::recipe("lecun-1998")
        .unwrap()
        .with_weight_decay(0.0)
        .unwrap();
    assert_eq!(r.name, "lecun-1998-wd0");
    assert_eq!(r.fit.weight_decay, 0.0);
    assert_eq!(
        r.deviations.last().unwrap(),
        "Weight decay 0 in place of the recipe's 0.2 (--weight-decay)."
    );
    // The recipe's own decay changes nothing, not even the name.
    let same = recipes::recipe("lecun-1998").unwrap();
    assert_eq!(same.clone().with_weight_decay(0.2).unwrap(), same);
    for (name, wd, wanted) in [
        ("lecun-1998-sdlm", 0.1, "drop --weight-decay"),
        ("course-502", -0.1, "the weight decay is -0.1"),
        ("course-502", f64::NAN, "the weight decay is NaN"),
    ] {
        let err = recipes::recipe(name)
            .unwrap()
            .with_weight_decay(wd)
            .unwrap_err()
            .to_string();
        assert!(err.contains(wanted), "{name} {wd}: {err}");
    }
}
