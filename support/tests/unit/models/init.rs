//! The course's models start as PyTorch's layers do (`models::init`).

use crate::models::ModelSpec;
use tch::nn::VarStore;
use tch::{Device, Kind};

/// Every convolution and dense layer of the course's models draws its weights and biases
/// from `U(-1/sqrt F, 1/sqrt F)`, `F` the inputs of one output, as PyTorch's `nn.Conv2d`
/// and `nn.Linear` do; tch's own default is `sqrt 6` times wider with zero biases.
#[test]
fn the_course_models_start_within_pytorchs_bounds() {
    for name in ["fcnn", "lenet5-modern", "fmp-mnist"] {
        let vs = VarStore::new(Device::Cpu);
        let _model = ModelSpec::preset(name)
            .and_then(|spec| spec.with_io(1, 10).build(&vs.root()))
            .unwrap();
        let variables = vs.variables();
        let mut checked = 0;
        for (path, weight) in &variables {
            let Some(layer) = path.strip_suffix(".weight") else {
                continue;
            };
            let size = weight.size();
            if size.len() < 2 {
                continue; // BatchNorm's scale
            }
            let fan_in: i64 = size[1..].iter().product();
            let bound = 1.0 / (fan_in as f64).sqrt();
            let bias = &variables[&format!("{layer}.bias")];
            for (what, t) in [("weights", weight), ("bias", bias)] {
                let largest = t.abs().max().to_kind(Kind::Double).double_value(&[]);
                assert!(
                    largest <= bound && largest > bound / 4.0,
                    "{name} {layer}: {what} up to {largest}, PyTorch's bound {bound}"
                );
            }
            checked += 1;
        }
        assert!(checked >= 3, "{name}: only {checked} layers checked");
    }
}
