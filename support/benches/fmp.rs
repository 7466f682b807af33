//! Forward plus backward of each FMP variant against libtorch's `fractional_max_pool2d`,
//! on CPU at batch 64 with 32 channels, at the MNIST net's block sizes.
//!
//! Run with `cargo bench -p support --bench fmp`. It prints the median time per pass and
//! the ratio to the native op measured in the same run (a ratio above 1 is slower). The
//! variants take turns pass by pass, so a busy machine slows them all alike.

use anyhow::Result;
use std::time::Instant;
use support::fmp::{Fmp, Regions};
use tch::{Device, Kind, Tensor};

const BATCH: i64 = 64;
const CHANNELS: i64 = 32;
const WARMUP: usize = 3;
const REPEATS: usize = 31;
/// The MNIST net's poolings (`fmp_sizes(sqrt 2, 6)`), input side to output side.
const SIZES: [(i64, i64); 4] = [(35, 25), (24, 17), (16, 11), (10, 7)];

/// Seconds of one forward and backward pass, with fresh regions as in training.
fn time_pass(layer: &Fmp, x: &Tensor) -> Result<f64> {
    let start = Instant::now();
    let y = layer.try_forward(x)?;
    let grads = Tensor::f_run_backward(&[y.sum(Kind::Float)], &[x], false, false)?;
    drop(grads);
    Ok(start.elapsed().as_secs_f64())
}

/// Median seconds per pass of each variant in `Regions::ALL` order, pooling `n_in -> n_out`.
fn medians(n_in: i64, n_out: i64) -> Result<Vec<f64>> {
    let x = Tensor::randn([BATCH, CHANNELS, n_in, n_in], (Kind::Float, Device::Cpu))
        .set_requires_grad(true);
    let layers: Vec<Fmp> = Regions::ALL.iter().map(|&r| Fmp::new(n_out, r)).collect();
    let mut times = vec![Vec::with_capacity(REPEATS); layers.len()];
    for round in 0..WARMUP + REPEATS {
        for (layer, t) in layers.iter().zip(&mut times) {
            let seconds = time_pass(layer, &x)?;
            if round >= WARMUP {
                t.push(seconds);
            }
        }
    }
    Ok(times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        })
        .collect())
}

fn main() -> Result<()> {
    tch::manual_seed(0);
    println!(
        "FMP forward + backward, CPU, batch {BATCH}, {CHANNELS} channels, {} threads, \
         median of {REPEATS}: ms (ratio to native)",
        tch::get_num_threads()
    );
    let native = Regions::ALL
        .iter()
        .position(|&r| r == Regions::Native)
        .unwrap_or(Regions::ALL.len() - 1);
    let columns = SIZES
        .iter()
        .map(|&(n_in, n_out)| medians(n_in, n_out))
        .collect::<Result<Vec<_>>>()?;
    let header: String = SIZES
        .iter()
        .map(|(i, o)| format!("{:>18}", format!("{i}->{o}")))
        .collect();
    println!("{:<26}{header}", "regions");
    for (v, variant) in Regions::ALL.iter().enumerate() {
        let cells: String = columns
            .iter()
            .map(|c| format!("{:>10.3} ({:>4.2}x)", c[v] * 1e3, c[v] / c[native]))
            .collect();
        println!("{:<26}{cells}", variant.to_string());
    }
    Ok(())
}
