//! The FMP exercises' checks (501.1, 502.1): they pass on the answer and name what is
//! wrong with typical wrong answers, without printing the value they want.

use std::f64::consts::SQRT_2;
use support::check::{mnist_adaptation, size_chain};
use support::models::FmpConfig;

/// The size chain written as exercise 501.1 asks, with `step` as the way back through
/// one block (from a pooled side to the side before the convolution).
fn chain(step: impl Fn(i64, f64) -> i64) -> impl Fn(f64, usize) -> (i64, Vec<i64>) {
    move |alpha, layers| {
        let (mut side, mut pooled) = (2, Vec::new());
        for _ in 0..layers {
            pooled.push(side);
            side = step(side, alpha);
        }
        pooled.reverse();
        (side, pooled)
    }
}

fn error_of(result: anyhow::Result<support::check::Passed>) -> String {
    match result {
        Ok(passed) => panic!("the check passed a wrong answer: {passed}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_size_chain_check_passes_grahams_rounding() {
    let passed = size_chain(chain(|n, a| (n as f64 * a + 0.5) as i64 + 1)).unwrap();
    assert!(
        passed.to_string().starts_with("✓ Exercise 501.1"),
        "{passed}"
    );
    assert!(passed.summary.contains("94x94"), "{passed}");
}

#[test]
fn the_size_chain_check_says_the_convolution_was_not_undone() {
    let msg = error_of(size_chain(chain(|n, a| (n as f64 * a + 0.5) as i64)));
    assert!(msg.starts_with("✗ Exercise 501.1"), "{msg}");
    assert!(msg.contains("not the convolution"), "{msg}");
    assert!(
        !msg.contains("94"),
        "the message gives the wanted input side away: {msg}"
    );
}

#[test]
fn the_size_chain_check_points_at_the_rounding() {
    let msg = error_of(size_chain(chain(|n, a| (n as f64 * a).ceil() as i64 + 1)));
    assert!(msg.contains("rounding"), "{msg}");
}

#[test]
fn the_size_chain_check_wants_forward_order() {
    let reversed = |alpha: f64, layers: usize| {
        let (input, pooled) = chain(|n, a| (n as f64 * a + 0.5) as i64 + 1)(alpha, layers);
        (input, pooled.into_iter().rev().collect())
    };
    let msg = error_of(size_chain(reversed));
    assert!(msg.contains("forward order"), "{msg}");
}

fn answer() -> FmpConfig {
    FmpConfig {
        in_channels: 1,
        layers: 6,
        growth: 32,
        alpha: SQRT_2,
        ..FmpConfig::course_cifar10()
    }
}

#[test]
fn the_mnist_check_passes_grahams_mnist_net() {
    let passed = mnist_adaptation(&answer()).unwrap();
    let text = passed.to_string();
    assert!(
        text.starts_with("✓ Exercise 502.1: sizes 36-35-25-24-17-16-11-10-7-6-4-3-2-1"),
        "{text}"
    );
    assert!(text.contains("parameters"), "{text}");
}

#[test]
fn the_mnist_check_rejects_three_input_channels() {
    let msg = error_of(mnist_adaptation(&FmpConfig {
        in_channels: 3,
        ..answer()
    }));
    assert!(
        msg.contains("in_channels = 3") && msg.contains("grayscale"),
        "{msg}"
    );
    assert_eq!(msg.lines().count(), 1, "only the channels are wrong: {msg}");
}

#[test]
fn the_mnist_check_rejects_twelve_blocks() {
    let msg = error_of(mnist_adaptation(&FmpConfig {
        layers: 12,
        ..answer()
    }));
    assert!(msg.contains("layers = 12"), "{msg}");
    assert!(msg.contains("pixels of zeros"), "{msg}");
    assert!(
        !msg.contains(" 6 ") && !msg.contains("six"),
        "the message gives the answer away: {msg}"
    );
}

#[test]
fn the_mnist_check_rejects_the_cifar_alpha() {
    let msg = error_of(mnist_adaptation(&FmpConfig {
        alpha: 2f64.powf(1.0 / 3.0),
        ..answer()
    }));
    assert!(msg.contains("CIFAR-10 net's 2^(1/3)"), "{msg}");
    assert!(
        !msg.contains("1.414") && !msg.contains("√2") && !msg.contains("sqrt"),
        "{msg}"
    );
}

#[test]
fn the_mnist_check_rejects_the_cifar_growth() {
    let msg = error_of(mnist_adaptation(&FmpConfig {
        growth: 64,
        ..answer()
    }));
    assert!(msg.contains("growth = 64"), "{msg}");
    assert!(
        !msg.contains("32"),
        "the message gives the answer away: {msg}"
    );
}

#[test]
fn the_mnist_check_lists_every_wrong_field_of_the_unchanged_cifar_net() {
    let msg = error_of(mnist_adaptation(&FmpConfig::course_cifar10()));
    for field in [
        "in_channels = 3",
        "alpha = 1.2599",
        "layers = 12",
        "growth = 64",
    ] {
        assert!(msg.contains(field), "{field} missing from: {msg}");
    }
}

#[test]
fn the_mnist_check_notices_a_changed_field_beyond_the_four() {
    let msg = error_of(mnist_adaptation(&FmpConfig {
        batch_norm: false,
        ..answer()
    }));
    assert!(
        msg.contains("change only in_channels, layers, growth and alpha"),
        "{msg}"
    );
}
