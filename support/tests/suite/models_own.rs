//! A net of one's own, written as the tch-rs examples write one, trains, evaluates and
//! shows its table and debug pass through `OwnNet` like the library's models.

use crate::train_util::{CLASSES, SIDE, config, dataset};
use support::models::{OwnNet, debug_forward, summary};
use support::train::{EvalOpts, evaluate, fit};
use tch::nn::{self, ModuleT};
use tch::{Device, Kind, Tensor};

/// The tch-rs examples' shape: a struct of layers and a `forward_t` that chains them.
#[derive(Debug)]
struct Net {
    conv: nn::Conv2D,
    fc: nn::Linear,
}

impl Net {
    fn new(vs: &nn::Path, fc_inputs: i64) -> Net {
        Net {
            conv: nn::conv2d(vs / "conv", 1, 4, 3, Default::default()),
            fc: nn::linear(vs / "fc", fc_inputs, CLASSES, Default::default()),
        }
    }
}

impl ModuleT for Net {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        xs.apply(&self.conv).relu().flatten(1, -1).apply(&self.fc)
    }
}

/// The right number of inputs for `Net`'s dense layer: 4 maps of 6x6.
const FC_INPUTS: i64 = 4 * (SIDE - 2) * (SIDE - 2);

#[test]
fn a_struct_net_trains_and_evaluates_like_the_librarys() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(300, None, 60);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = OwnNet::new(Net::new(&vs.root(), FC_INPUTS), &vs, [1, SIDE, SIDE]).unwrap();
    let history = fit(&model, &vs, &data, &config(tmp.path(), 3)).unwrap();
    let (first, last) = (history.records[0].train_loss, history.records[2].train_loss);
    assert!(last < 0.8 * first, "the loss went from {first} to {last}");
    let eval = evaluate(&model, &data, &EvalOpts::new(Device::Cpu)).unwrap();
    assert!(
        eval.accuracy > 0.5,
        "accuracy {} after 3 epochs",
        eval.accuracy
    );
}

#[test]
fn a_sequential_net_trains_like_the_librarys() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(120, None, 30);
    let vs = nn::VarStore::new(Device::Cpu);
    let root = vs.root();
    let net = nn::seq_t().add_fn(|x| x.flatten(1, -1)).add(nn::linear(
        &root / "fc",
        SIDE * SIDE,
        CLASSES,
        Default::default(),
    ));
    let model = OwnNet::new(net, &vs, [1, SIDE, SIDE]).unwrap();
    let history = fit(&model, &vs, &data, &config(tmp.path(), 1)).unwrap();
    assert_eq!(history.epochs(), 1);
}

#[test]
fn an_own_nets_summary_counts_all_its_parameters() {
    let vs = nn::VarStore::new(Device::Cpu);
    let model = OwnNet::new(Net::new(&vs.root(), FC_INPUTS), &vs, [1, SIDE, SIDE]).unwrap();
    let table = summary(&model, &[1, SIDE, SIDE]).unwrap();
    let total = table
        .column("parameters")
        .unwrap()
        .i64()
        .unwrap()
        .get(table.height() - 1);
    let want = (4 * 9 + 4) + (FC_INPUTS * CLASSES + CLASSES);
    assert_eq!(total, Some(want));
    let shapes = table
        .column("output_shape")
        .unwrap()
        .str()
        .unwrap()
        .get(0)
        .map(str::to_string);
    assert_eq!(shapes.as_deref(), Some(format!("[{CLASSES}]").as_str()));
}

#[test]
fn an_own_nets_debug_pass_gives_its_output() {
    let vs = nn::VarStore::new(Device::Cpu);
    let model = OwnNet::new(Net::new(&vs.root(), FC_INPUTS), &vs, [1, SIDE, SIDE]).unwrap();
    let x = Tensor::zeros([2, 1, SIDE, SIDE], (Kind::Float, Device::Cpu));
    let out = debug_forward(&model, &x).unwrap();
    assert_eq!(out.size(), [2, CLASSES]);
}

#[test]
fn an_own_net_whose_layers_do_not_fit_is_a_clear_error_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let data = dataset(60, None, 30);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = OwnNet::new(Net::new(&vs.root(), 100), &vs, [1, SIDE, SIDE]).unwrap();
    let msg = format!(
        "{:#}",
        fit(&model, &vs, &data, &config(tmp.path(), 1)).unwrap_err()
    );
    assert!(
        msg.contains("your net's forward_t failed on a batch of shape"),
        "{msg}"
    );
    assert!(
        !tmp.path().join("run").join("history.csv").exists(),
        "a run was written for a net that cannot run"
    );
}

#[test]
fn an_own_net_needs_a_square_input_shape() {
    let vs = nn::VarStore::new(Device::Cpu);
    let err = OwnNet::new(Net::new(&vs.root(), FC_INPUTS), &vs, [1, 28, 32]).unwrap_err();
    assert!(err.to_string().contains("[channels, side, side]"), "{err}");
}
