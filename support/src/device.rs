//! Which device trains the model, and why.
//!
//! Order: `CNN_DEVICE` if set, else CUDA, else Apple MPS, else CPU. The choice is
//! printed with its reason, because "why is this slow?" is the first question a student
//! asks. The thread count is set here too (`CNN_THREADS`, default: all cores).

use anyhow::{Result, bail};
use std::fmt;
use std::sync::Once;
use tch::Device;

/// A device with the reason it was chosen and the CPU thread count in force.
#[derive(Debug, Clone)]
pub struct Choice {
    pub device: Device,
    pub reason: String,
    pub threads: i32,
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "device: {} ({}); CPU threads: {}",
            device_name(self.device),
            self.reason,
            self.threads
        )
    }
}

impl Choice {
    /// The device for a model with fractional max-pooling. libtorch has no
    /// `fractional_max_pool2d` on MPS, so on a Mac the whole model runs on the CPU.
    pub fn for_fmp(&self) -> Choice {
        if self.device == Device::Mps {
            let choice = Choice {
                device: Device::Cpu,
                reason: "fractional max-pooling is not implemented on Apple MPS, so FMP models run on the CPU".into(),
                threads: self.threads,
            };
            println!("{choice}");
            choice
        } else {
            self.clone()
        }
    }
}

/// A short lowercase name: `cpu`, `cuda:0`, `mps`.
pub fn device_name(device: Device) -> String {
    match device {
        Device::Cpu => "cpu".into(),
        Device::Cuda(i) => format!("cuda:{i}"),
        Device::Mps => "mps".into(),
        Device::Vulkan => "vulkan".into(),
    }
}

/// Loads libtorch's CUDA library into the process once.
///
/// A binary links `libtorch_cuda.so` only if the linker keeps it, and a notebook's code
/// is a library that evcxr loads at run time, so nothing pulls the CUDA part in and
/// `tch::Cuda::is_available()` says false on a GPU machine. Opening the library by name
/// (it sits next to `libtorch.so` on the library path) registers the CUDA backend.
fn load_cuda_backend() {
    static LOAD: Once = Once::new();
    LOAD.call_once(|| {
        #[cfg(target_os = "linux")]
        for name in [c"libtorch_cuda.so", c"libtorch_cuda_cpp.so"] {
            // SAFETY: dlopen with a valid C string; a null result only means "not there",
            // which is the CPU-only case and needs no handling.
            unsafe {
                libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL);
            }
        }
    });
}

/// True when a CUDA GPU is usable from this process (also inside the evcxr kernel).
pub(crate) fn cuda_available() -> bool {
    load_cuda_backend();
    tch::Cuda::is_available()
}

/// True when Apple's Metal backend (MPS) is usable.
pub(crate) fn mps_available() -> bool {
    tch::utils::has_mps()
}

/// The device to train on, printed with the reason it was chosen: the one called `name`
/// (`cpu`, `cuda`, `mps`; an error if this machine lacks it), else the one `CNN_DEVICE`
/// names, else CUDA, MPS or the CPU, whichever this machine has first. Sets libtorch's
/// CPU thread count (`CNN_THREADS`, default: all cores).
pub fn choose_device(name: Option<&str>) -> Result<Choice> {
    let threads = crate::env::threads()?;
    tch::set_num_threads(threads);
    let from_env = std::env::var("CNN_DEVICE").ok();
    let choice = match (name, from_env.as_deref().map(str::trim)) {
        (Some(name), _) => named_device(name.trim(), &format!("asked for {name}"), threads)?,
        (None, Some(env)) if !env.is_empty() => {
            named_device(env, &format!("CNN_DEVICE={env}"), threads)?
        }
        (None, _) => {
            let (device, reason) = if cuda_available() {
                (Device::Cuda(0), "a CUDA GPU is available")
            } else if mps_available() {
                (Device::Mps, "Apple MPS is available, no CUDA")
            } else {
                (Device::Cpu, "no CUDA GPU or Apple MPS found")
            };
            Choice {
                device,
                reason: reason.into(),
                threads,
            }
        }
    };
    println!("{choice}");
    Ok(choice)
}

fn named_device(name: &str, reason: &str, threads: i32) -> Result<Choice> {
    let device = match name {
        "cpu" => Device::Cpu,
        "cuda" => {
            if !cuda_available() {
                bail!(
                    "{reason}, but libtorch sees no CUDA GPU. Check `nvidia-smi`, \
                     or ask for cpu (or unset CNN_DEVICE) to use the CPU."
                );
            }
            Device::Cuda(0)
        }
        "mps" => {
            if !mps_available() {
                bail!(
                    "{reason}, but Apple MPS is not available here (it needs an Apple \
                     Silicon Mac). Ask for cpu, or unset CNN_DEVICE to use what this machine has."
                );
            }
            Device::Mps
        }
        other => bail!(
            "{other:?} is not a device this course knows; use cpu, cuda or mps \
             (or unset CNN_DEVICE to choose automatically)"
        ),
    };
    Ok(Choice {
        device,
        reason: reason.into(),
        threads,
    })
}

/// The libtorch version `support` was built against (tch 0.26 needs PyTorch 2.13.0), as
/// build.rs found it.
const LIBTORCH_VERSION: &str = env!("CNN_LIBTORCH_VERSION");

/// What this machine offers the course, as a two-column table (`item`, `value`): the
/// libtorch version, the chosen device and why, CUDA and MPS availability, the thread
/// count, and where the crate's own CPU kernels run ([`crate::parallel`]). `cnn env` prints
/// it; the setup-check notebook shows it.
pub fn environment(choice: &Choice) -> Result<polars::prelude::DataFrame> {
    let cuda = if cuda_available() {
        format!("yes ({} device(s))", tch::Cuda::device_count())
    } else {
        "no".to_string()
    };
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let rows = [
        ("libtorch", LIBTORCH_VERSION.to_string()),
        ("chosen device", device_name(choice.device)),
        ("why", choice.reason.clone()),
        ("cuda available", cuda),
        ("mps available", yes_no(mps_available())),
        ("threads", choice.threads.to_string()),
        (
            "crate's CPU kernels on",
            crate::parallel::where_parts_run().to_string(),
        ),
    ];
    let items: Vec<&str> = rows.iter().map(|r| r.0).collect();
    let values: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    Ok(polars::df!("item" => items, "value" => values)?)
}
