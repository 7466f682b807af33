//! `cnn env`: what this machine offers the course.

use anyhow::Result;
use support::device;

pub fn run() -> Result<()> {
    let choice = device::pick_device()?;
    println!("libtorch: {}", support::libtorch_version());
    println!(
        "chosen device: {} ({})",
        device::device_name(choice.device),
        choice.reason
    );
    println!(
        "cuda available: {}{}",
        device::cuda_available(),
        if device::cuda_available() {
            format!(" ({} device(s))", tch::Cuda::device_count())
        } else {
            String::new()
        }
    );
    println!("mps available: {}", device::mps_available());
    println!("threads: {}", choice.threads);
    Ok(())
}
