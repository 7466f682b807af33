//! Checks of the LeNet-5 exercises: the layers of Rosebrock's LeNet-5 against the
//! chapter's table (503.1), and one training step (503.2).

use super::{Passed, verdict};
use crate::models::own::catch_torch_panic;
use crate::show::thousands;
use anyhow::Result;
use tch::nn::{self, ModuleT, OptimizerConfig};
use tch::{Device, Kind, Tensor};

/// Rosebrock's LeNet-5 as the chapter tabulates it: each stage's name and output shape
/// for one 28x28 digit (channels, height, width; or features after the flatten).
const TABLE: [(&str, &[i64]); 6] = [
    ("C1 (5x5 convolution, c1)", &[20, 28, 28]),
    ("S2 (2x2 max-pooling)", &[20, 14, 14]),
    ("C3 (5x5 convolution, c2)", &[50, 14, 14]),
    ("S4 (2x2 max-pooling)", &[50, 7, 7]),
    ("F5 (fully connected, fc1)", &[500]),
    ("F6 (fully connected, fc2)", &[10]),
];

/// The chapter's parameter count of Rosebrock's LeNet-5.
const PARAMETERS: i64 = 1_256_080;

/// Exercise 503.1: runs one 28x28 image through the four layers of the student's LeNet-5
/// as the chapter chains them (C1, ReLU, S2 max-pooling, C3, ReLU, S4, flatten, F5, ReLU,
/// F6) and compares every stage's output shape with the chapter's table, then the
/// parameter count with its 1,256,080. The first stage that differs is named, with what
/// to look at.
pub fn lenet_layers(
    c1: &nn::Conv2D,
    c2: &nn::Conv2D,
    fc1: &nn::Linear,
    fc2: &nn::Linear,
) -> Result<Passed> {
    let x = Tensor::zeros([1, 1, 28, 28], (Kind::Float, c1.ws.device()));
    let problems = match stage_problem(&x, c1, c2, fc1, fc2) {
        Some(problem) => vec![problem],
        None => {
            let count: i64 = [&c1.ws, &c2.ws, &fc1.ws, &fc2.ws]
                .into_iter()
                .chain(c1.bs.iter().chain(&c2.bs).chain(&fc1.bs).chain(&fc2.bs))
                .map(|t| t.numel() as i64)
                .sum();
            if count == PARAMETERS {
                vec![]
            } else {
                vec![format!(
                    "every shape matches the table, but the four layers hold {} parameters \
                     instead of the chapter's {}: does every layer have its bias?",
                    thousands(count),
                    thousands(PARAMETERS)
                )]
            }
        }
    };
    verdict("503.1", problems, || {
        format!(
            "every stage's output matches the chapter's table (20x28x28, 20x14x14, \
             50x14x14, 50x7x7, 500, 10), and the net has {} parameters",
            thousands(PARAMETERS)
        )
    })
}

/// The first stage whose output differs from the table, or that cannot run at all.
fn stage_problem(
    x: &Tensor,
    c1: &nn::Conv2D,
    c2: &nn::Conv2D,
    fc1: &nn::Linear,
    fc2: &nn::Linear,
) -> Option<String> {
    let _no_grad = tch::no_grad_guard();
    let mut x = x.shallow_clone();
    for (stage, (name, want)) in TABLE.iter().enumerate() {
        let step = catch_torch_panic(|| match stage {
            0 => x.apply(c1),
            1 | 3 => x.relu().max_pool2d_default(2),
            2 => x.apply(c2),
            4 => x.flatten(1, -1).apply(fc1),
            _ => x.relu().apply(fc2),
        });
        x = match step {
            Ok(y) => y,
            Err(message) => {
                let got = x.size()[1..].to_vec();
                return Some(format!(
                    "{name} cannot take the previous stage's output of shape {got:?} \
                     ({message}); {}",
                    hint(stage)
                ));
            }
        };
        let got = x.size()[1..].to_vec();
        if got != *want {
            return Some(format!(
                "{name} gives {got:?}, but the chapter's table has {want:?}; {}",
                hint(stage)
            ));
        }
    }
    None
}

/// Where to look when a stage goes wrong.
fn hint(stage: usize) -> &'static str {
    match stage {
        0 | 2 => {
            "its number of filters is the table's channels, and 'same' padding keeps the \
             height and width: how many pixels must a 5x5 kernel get on each side for that?"
        }
        1 | 3 => "the pooling halves the side; check the convolution before it",
        4 => "F5 reads S4's maps flattened into one vector: channels x height x width values",
        _ => "F6 reads F5's outputs and gives one score per class",
    }
}

/// A small net for 503.2: the check trains one copy with the student's step and computes
/// the expected gradients on another.
#[derive(Debug)]
struct Probe {
    conv: nn::Conv2D,
    fc: nn::Linear,
}

impl Probe {
    fn new(vs: &nn::Path) -> Probe {
        Probe {
            conv: nn::conv2d(vs / "conv", 1, 4, 3, Default::default()),
            fc: nn::linear(vs / "fc", 4 * 10 * 10, 10, Default::default()),
        }
    }
}

impl ModuleT for Probe {
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        xs.apply(&self.conv).relu().flatten(1, -1).apply(&self.fc)
    }
}

/// Steps of 503.2's check, on one fixed batch.
const STEPS: usize = 20;

/// Exercise 503.2: `step(net, optimizer, images, labels)` makes one training step and
/// returns the loss. Run 20 times on one fixed batch of a small net, with Adam, the loss
/// must fall, the optimizer must see each step's own gradients (not ones left over from
/// the step before), and the weights must move. Each way of getting it wrong (no backward
/// pass, no step, gradients zeroed between backward and step, gradients never zeroed) has
/// its own message.
pub fn training_step(
    step: impl Fn(&dyn ModuleT, &mut nn::Optimizer, &Tensor, &Tensor) -> Tensor,
) -> Result<Passed> {
    crate::seed(503);
    let images = Tensor::randn([32, 1, 12, 12], (Kind::Float, Device::Cpu));
    let labels = Tensor::randint(10, [32], (Kind::Int64, Device::Cpu));
    let trained = nn::VarStore::new(Device::Cpu);
    let net = Probe::new(&trained.root());
    let mut reference = nn::VarStore::new(Device::Cpu);
    let reference_net = Probe::new(&reference.root());
    let mut optimizer = nn::Adam::default().build(&trained, 1e-2)?;
    let mut losses = Vec::with_capacity(STEPS);
    let mut problems = Vec::new();
    for i in 1..=STEPS {
        reference.copy(&trained)?;
        let expected = gradients(&reference, &reference_net, &images, &labels);
        let before: Vec<Tensor> = trained
            .trainable_variables()
            .iter()
            .map(Tensor::copy)
            .collect();
        let loss = step(&net, &mut optimizer, &images, &labels);
        losses.push(loss.double_value(&[]));
        if let Some(problem) = step_problem(i, &trained, &before, &expected, &loss) {
            problems.push(problem);
            break;
        }
    }
    let (first, last) = (losses[0], losses[losses.len() - 1]);
    if problems.is_empty() && last > 0.9 * first {
        problems.push(format!(
            "in {STEPS} steps on one fixed batch the loss went from {first:.3} to {last:.3}; \
             it should fall: does your step return the loss it computed?"
        ));
    }
    verdict("503.2", problems, || {
        format!(
            "on one fixed batch the loss fell from {first:.3} to {last:.3} in {STEPS} steps, \
             and every step used its own fresh gradients"
        )
    })
}

/// The gradients of the loss of `net` (whose variables are in `vs`) on one batch.
fn gradients(vs: &nn::VarStore, net: &Probe, images: &Tensor, labels: &Tensor) -> Vec<Tensor> {
    for mut v in vs.trainable_variables() {
        v.zero_grad();
    }
    net.forward_t(images, true)
        .cross_entropy_for_logits(labels)
        .backward();
    vs.trainable_variables().iter().map(Tensor::grad).collect()
}

/// What is wrong with the student's step `i`, judged from the gradients it left, whether
/// the weights moved, and whether its `loss` went through a backward pass.
fn step_problem(
    i: usize,
    trained: &nn::VarStore,
    before: &[Tensor],
    expected: &[Tensor],
    loss: &Tensor,
) -> Option<String> {
    let variables = trained.trainable_variables();
    let grads: Vec<Tensor> = variables.iter().map(Tensor::grad).collect();
    let moved = variables
        .iter()
        .zip(before)
        .any(|(now, was)| !now.allclose(was, 0.0, 0.0, false));
    if !moved {
        // libtorch's zero_grad drops the gradients (or zeroes them): either way the step
        // had nothing to go on. A second backward pass through the loss fails if the
        // student's step already ran one, whose graph it frees.
        let cleared = grads
            .iter()
            .all(|g| !g.defined() || g.abs().max().double_value(&[]) == 0.0);
        let backward_ran = loss.f_backward().is_err();
        return Some(if cleared && backward_ran {
            "at the optimizer's step the gradients were gone: zero the old gradients \
             before the backward pass, not between it and the step"
                .into()
        } else if cleared {
            "after your step the weights have no gradients: the loss needs a backward pass".into()
        } else {
            "the gradients are there, but the weights did not move: the optimizer takes no \
             step"
                .into()
        });
    }
    let fresh = grads
        .iter()
        .zip(expected)
        .all(|(g, e)| g.defined() && g.allclose(e, 1e-4, 1e-6, false));
    (!fresh).then(|| {
        format!(
            "at step {i} the gradients are not those of this step's loss: gradients add up \
             in every backward pass until they are zeroed, so zero them before each one"
        )
    })
}
