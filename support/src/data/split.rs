//! Class-balanced subsets and train/validation splits.
//!
//! Both take examples in a seeded, class-interleaved order: shuffle, then take the first
//! example of every class, then the second of every class, and so on. Any prefix of that
//! order holds the classes in (nearly) equal numbers, so a quick run on 2,000 images still
//! sees every class, and a validation set mirrors the training set.

use super::{Dataset, Examples};
use anyhow::{Result, bail};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use tch::Tensor;

impl Examples {
    /// All indices in the seeded class-interleaved order described in this module.
    pub fn balanced_order(&self, seed: u64) -> Vec<i64> {
        let labels = Vec::<i64>::try_from(&self.labels).unwrap_or_default();
        let mut order: Vec<usize> = (0..labels.len()).collect();
        order.shuffle(&mut StdRng::seed_from_u64(seed));
        let mut seen = std::collections::HashMap::<i64, usize>::new();
        let mut keyed: Vec<(usize, usize, i64)> = order
            .into_iter()
            .enumerate()
            .map(|(pos, i)| {
                let rank = seen.entry(labels[i]).or_default();
                *rank += 1;
                (*rank, pos, i as i64)
            })
            .collect();
        keyed.sort_unstable();
        keyed.into_iter().map(|(_, _, i)| i).collect()
    }

    /// The examples at `indices`, in that order (one `index_select` per tensor).
    pub fn select(&self, indices: &[i64]) -> Examples {
        let idx = Tensor::from_slice(indices);
        Examples {
            images: self.images.index_select(0, &idx),
            labels: self.labels.index_select(0, &idx),
        }
    }

    /// At most `n` examples, class-balanced, chosen with `seed`.
    pub fn balanced_subset(&self, n: usize, seed: u64) -> Examples {
        let order = self.balanced_order(seed);
        self.select(&order[..n.min(order.len())])
    }
}

impl Dataset {
    /// Moves `n` class-balanced training examples, chosen with `seed`, into
    /// `validation`. Fails when `n` would leave no training examples.
    pub fn split_validation(self, n: usize, seed: u64) -> Result<Dataset> {
        let total = self.train.len();
        if n >= total {
            bail!(
                "cannot hold out {n} validation examples from {total} training examples; \
                 use fewer than {total}"
            );
        }
        let order = self.train.balanced_order(seed);
        let (held, kept) = order.split_at(n);
        let mut kept = kept.to_vec();
        kept.sort_unstable();
        Ok(Dataset {
            validation: Some(self.train.select(held)),
            train: self.train.select(&kept),
            ..self
        })
    }

    /// A small copy for quick runs (`CNN_QUICK=1`): at most `train_n` training and
    /// `test_n` test examples, each class-balanced and chosen with `seed`. A validation
    /// set, if any, is cut to the same share as the training set.
    pub fn subset(self, train_n: usize, test_n: usize, seed: u64) -> Dataset {
        let share = train_n as f64 / self.train.len().max(1) as f64;
        let validation = self.validation.as_ref().map(|v| {
            let n = ((v.len() as f64 * share).ceil() as usize).max(1);
            v.balanced_subset(n, seed)
        });
        Dataset {
            train: self.train.balanced_subset(train_n, seed),
            test: self.test.balanced_subset(test_n, seed),
            validation,
            ..self
        }
    }
}
