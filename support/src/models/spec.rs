//! Which net a run trained, exactly: enough to build the same net again, so that
//! `cnn eval` and `cnn resume` can load a run's checkpoint into it, whether the run came
//! from the command line or from a notebook that changed a preset's settings.

use super::{Fcnn, FcnnConfig, FmpConfig, FmpNet, LeNet5, LeNet5Config, Model};
use anyhow::Result;
use serde::{Deserialize, Serialize};
use tch::nn;

/// A library model's full configuration, as a run's `config.json` records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ModelSpec {
    Fmp(FmpConfig),
    Lenet5(LeNet5Config),
    Fcnn(FcnnConfig),
}

impl ModelSpec {
    /// Builds the net under `vs`, with fresh weights.
    pub fn build(&self, vs: &nn::Path) -> Result<Box<dyn Model>> {
        Ok(match self {
            ModelSpec::Fmp(c) => Box::new(FmpNet::new(vs, c.clone())?),
            ModelSpec::Lenet5(c) => Box::new(LeNet5::new(vs, c.clone())?),
            ModelSpec::Fcnn(c) => Box::new(Fcnn::new(vs, c.clone())?),
        })
    }

    /// The same net for images of `in_channels` channels and `classes` classes.
    pub fn with_io(&self, in_channels: i64, classes: i64) -> ModelSpec {
        match self.clone() {
            ModelSpec::Fmp(c) => ModelSpec::Fmp(FmpConfig {
                in_channels,
                classes,
                ..c
            }),
            ModelSpec::Lenet5(c) => ModelSpec::Lenet5(LeNet5Config {
                in_channels,
                classes,
                ..c
            }),
            ModelSpec::Fcnn(c) => ModelSpec::Fcnn(FcnnConfig {
                in_channels,
                classes,
                ..c
            }),
        }
    }

    /// True for an FMP net, which runs on the CPU on Apple MPS (see `Choice::for_fmp`).
    pub fn is_fmp(&self) -> bool {
        matches!(self, ModelSpec::Fmp(_))
    }
}

impl From<FmpConfig> for ModelSpec {
    fn from(config: FmpConfig) -> Self {
        ModelSpec::Fmp(config)
    }
}

impl From<LeNet5Config> for ModelSpec {
    fn from(config: LeNet5Config) -> Self {
        ModelSpec::Lenet5(config)
    }
}

impl From<FcnnConfig> for ModelSpec {
    fn from(config: FcnnConfig) -> Self {
        ModelSpec::Fcnn(config)
    }
}
