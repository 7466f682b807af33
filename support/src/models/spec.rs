//! Which net a run trained, exactly: enough to build the same net again, so that
//! `cnn eval` and `cnn resume` can load a run's checkpoint into it, whether the run came
//! from the command line or from a notebook that changed a preset's settings.

use super::registry::{MODEL_NAMES, PRESETS};
use super::{Fcnn, FcnnConfig, FmpConfig, FmpNet, LeNet5, LeNet5Config, Model};
use crate::fmp::Regions;
use anyhow::{Result, bail};
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
    /// The preset net behind a model name (one of [`MODEL_NAMES`]), with the channels and
    /// classes of the data it was designed for; [`ModelSpec::with_io`] fits it to others.
    /// The one way from a name to a net: `ModelSpec::preset(name)?.with_io(c, k).build(vs)`.
    pub fn preset(name: &str) -> Result<ModelSpec> {
        match PRESETS.iter().find(|(preset, _)| *preset == name) {
            Some((_, spec)) => Ok(spec()),
            None => bail!(
                "unknown model {name:?}; the models are: {}",
                MODEL_NAMES.join(", ")
            ),
        }
    }

    /// The same FMP net with other pooling regions; an error for a net without FMP.
    pub fn with_regions(&self, regions: Regions) -> Result<ModelSpec> {
        match self.clone() {
            ModelSpec::Fmp(c) => Ok(ModelSpec::Fmp(FmpConfig { regions, ..c })),
            _ => bail!("pooling regions only apply to the FMP nets (fmp-*), not to this net"),
        }
    }

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

    /// `(in_channels, classes)`.
    pub fn io(&self) -> (i64, i64) {
        match self {
            ModelSpec::Fmp(c) => (c.in_channels, c.classes),
            ModelSpec::Lenet5(c) => (c.in_channels, c.classes),
            ModelSpec::Fcnn(c) => (c.in_channels, c.classes),
        }
    }

    /// The FMP layers' regions; `None` for a net without FMP.
    pub fn regions(&self) -> Option<Regions> {
        match self {
            ModelSpec::Fmp(c) => Some(c.regions),
            _ => None,
        }
    }

    /// True when `self` is `other` but for the channels, classes and pooling regions,
    /// which a run may change without changing which net it is.
    pub fn same_net_as(&self, other: &ModelSpec) -> bool {
        let (channels, classes) = other.io();
        let fitted = self.with_io(channels, classes);
        let fitted = match other.regions() {
            Some(regions) => fitted.with_regions(regions).unwrap_or(fitted),
            None => fitted,
        };
        fitted == *other
    }

    /// The model name of the preset this net is (see [`ModelSpec::same_net_as`]); `None`
    /// for a net with settings of its own.
    pub fn preset_name(&self) -> Option<&'static str> {
        PRESETS
            .iter()
            .find(|(_, spec)| spec().same_net_as(self))
            .map(|(name, _)| *name)
    }

    /// The device to train this net on: the one `device` names, or the best this machine
    /// has; an FMP net stays on the CPU where the best is Apple's MPS, which has no
    /// fractional max-pooling (see `Choice::for_fmp`).
    pub fn device(&self, device: Option<&str>) -> Result<tch::Device> {
        let choice = crate::device::choose_device(device)?;
        Ok(if self.is_fmp() {
            choice.for_fmp()
        } else {
            choice
        }
        .device)
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
