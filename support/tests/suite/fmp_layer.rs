//! Facts about the fractional max-pooling layer: it pools over the regions it claims, its
//! gradient reaches only the max positions, bad sizes are errors, and it draws as told.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use support::fmp::{Fmp, Interval, Regions};
use tch::nn::ModuleT;
use tch::{Device, Kind, Tensor};

const N: i64 = 2;
const C: i64 = 3;

/// An `[N, C, h, w]` f64 tensor of distinct values in a random order, so every region has
/// a unique argmax.
fn distinct_input(h: i64, w: i64, seed: u64) -> Tensor {
    let mut values: Vec<f64> = (0..N * C * h * w).map(|v| v as f64 / 7.0).collect();
    values.shuffle(&mut StdRng::seed_from_u64(seed));
    Tensor::from_slice(&values).view([N, C, h, w])
}

/// A layer whose regions are fixed: offsets for pseudorandom and native, a seed for random.
fn fixed_layer(variant: Regions, out: i64, seed: u64) -> anyhow::Result<Fmp> {
    let layer = Fmp::new(out, variant);
    if variant.is_random() {
        Ok(layer.with_seed(seed))
    } else {
        let mut rng = StdRng::seed_from_u64(seed);
        layer.with_u(rng.random::<f64>(), rng.random::<f64>())
    }
}

/// For each output cell, the flat input index of its region's max, by brute force.
fn brute_argmax(x: &Tensor, rows: &[Interval], cols: &[Interval]) -> anyhow::Result<Vec<usize>> {
    let (h, w) = (x.size()[2] as usize, x.size()[3] as usize);
    let v = Vec::<f64>::try_from(x.flatten(0, -1))?;
    let mut argmax = Vec::new();
    for plane in 0..(N * C) as usize {
        for r in rows {
            for c in cols {
                let mut best = None::<usize>;
                for i in r.first..=r.last {
                    for j in c.first..=c.last {
                        let k = plane * h * w + i as usize * w + j as usize;
                        if best.is_none_or(|b| v[k] > v[b]) {
                            best = Some(k);
                        }
                    }
                }
                argmax.push(best.ok_or_else(|| anyhow::anyhow!("empty region"))?);
            }
        }
    }
    Ok(argmax)
}

/// The MNIST block sizes and a few odd ones, including non-square inputs.
const CASES: [(i64, i64, i64); 7] = [
    (35, 35, 25),
    (24, 24, 17),
    (16, 16, 11),
    (10, 10, 7),
    (3, 3, 2),
    (9, 7, 5),
    (2, 2, 1),
];

#[test]
fn pooled_values_equal_a_brute_force_max_over_each_region_for_every_variant() -> anyhow::Result<()>
{
    for variant in Regions::ALL {
        for (seed, (h, w, out)) in CASES.into_iter().enumerate() {
            let layer = fixed_layer(variant, out, seed as u64)?;
            let x = distinct_input(h, w, seed as u64);
            let (rows, cols) = layer.intervals(h, w)?;
            let v = Vec::<f64>::try_from(x.flatten(0, -1))?;
            let expected: Vec<f64> = brute_argmax(&x, &rows, &cols)?
                .into_iter()
                .map(|k| v[k])
                .collect();
            let y = layer.try_forward(&x)?;
            assert_eq!(y.size(), [N, C, out, out], "{variant} {h}x{w} -> {out}");
            assert_eq!(
                Vec::<f64>::try_from(y.flatten(0, -1))?,
                expected,
                "{variant} {h}x{w} -> {out}"
            );
        }
    }
    Ok(())
}

#[test]
fn gradient_at_each_input_is_the_upstream_gradient_of_the_regions_it_is_the_max_of()
-> anyhow::Result<()> {
    // With disjoint regions that is one region's gradient at its argmax and 0 elsewhere;
    // with overlapping regions one input can be the max of up to four regions and collects
    // all of theirs.
    for variant in Regions::ALL {
        for (seed, (h, w, out)) in CASES.into_iter().enumerate() {
            let layer = fixed_layer(variant, out, seed as u64)?;
            let x = distinct_input(h, w, seed as u64 + 100).set_requires_grad(true);
            let (rows, cols) = layer.intervals(h, w)?;
            let mut rng = StdRng::seed_from_u64(seed as u64);
            let upstream: Vec<f64> = (0..N * C * out * out)
                .map(|_| rng.random_range(0.5..1.5))
                .collect();
            let mut expected = vec![0.0; (N * C * h * w) as usize];
            for (cell, k) in brute_argmax(&x.detach(), &rows, &cols)?
                .into_iter()
                .enumerate()
            {
                expected[k] += upstream[cell];
            }
            let y = layer.try_forward(&x)?;
            (y * Tensor::from_slice(&upstream).view([N, C, out, out]))
                .sum(Kind::Double)
                .backward();
            let grad = Vec::<f64>::try_from(x.grad().flatten(0, -1))?;
            for (k, (g, e)) in grad.iter().zip(&expected).enumerate() {
                assert!(
                    (g - e).abs() < 1e-12,
                    "{variant} {h}x{w} -> {out}: input {k} has gradient {g}, expected {e}"
                );
            }
        }
    }
    Ok(())
}

#[test]
fn impossible_sizes_are_clear_errors_before_any_compute() {
    let x = Tensor::zeros([1, 1, 24, 24], (Kind::Float, tch::Device::Cpu));
    for variant in Regions::ALL {
        for (out, says) in [
            (25, "smaller"),
            (24, "smaller"),
            (11, "above 2"),
            (0, "at least 1"),
        ] {
            let err = Fmp::new(out, variant)
                .try_forward(&x)
                .expect_err("impossible pooling");
            let text = format!("{err:#}");
            assert!(
                text.contains("24x24") && text.contains(says),
                "{variant} 24 -> {out}: {text}"
            );
        }
    }
}

#[test]
fn wrong_rank_or_integer_input_is_a_clear_error() {
    for variant in Regions::ALL {
        let flat = Tensor::zeros([4, 35], (Kind::Float, tch::Device::Cpu));
        assert!(
            format!(
                "{:#}",
                Fmp::new(25, variant).try_forward(&flat).expect_err("2-D")
            )
            .contains("[N, C, H, W]")
        );
        let ints = Tensor::zeros([1, 1, 35, 35], (Kind::Int64, tch::Device::Cpu));
        assert!(
            format!(
                "{:#}",
                Fmp::new(25, variant)
                    .try_forward(&ints)
                    .expect_err("integers")
            )
            .contains("floating-point")
        );
    }
}

#[test]
fn a_chw_input_is_pooled_like_a_batch_of_one() -> anyhow::Result<()> {
    for variant in Regions::ALL {
        let layer = fixed_layer(variant, 7, 3)?;
        let x = distinct_input(10, 10, 3);
        let single = layer.try_forward(&x.get(0))?;
        assert_eq!(single.size(), [C, 7, 7]);
        assert!(single.equal(&layer.try_forward(&x)?.get(0)), "{variant}");
    }
    Ok(())
}

#[test]
fn a_seeded_layer_uses_the_same_regions_on_every_call() -> anyhow::Result<()> {
    let x = distinct_input(35, 35, 1);
    for variant in Regions::ALL {
        let layer = Fmp::new(25, variant).with_seed(42);
        let first = layer.try_forward(&x)?;
        for train in [true, false] {
            assert!(
                first.equal(&layer.forward_t(&x, train)),
                "{variant} train={train}"
            );
        }
    }
    Ok(())
}

#[test]
fn an_unseeded_layer_draws_new_regions_on_every_call_in_training_and_evaluation() {
    let x = distinct_input(35, 35, 2);
    for variant in Regions::ALL {
        let layer = Fmp::new(25, variant);
        assert!(layer.is_random());
        for train in [true, false] {
            let first = layer.forward_t(&x, train);
            let differs = (0..10).any(|_| !first.equal(&layer.forward_t(&x, train)));
            assert!(
                differs,
                "{variant} train={train}: ten calls gave the same regions"
            );
        }
    }
}

#[test]
fn random_regions_cannot_be_fixed_by_an_offset() {
    for variant in [Regions::RandomOverlapping, Regions::RandomDisjoint] {
        assert!(Fmp::new(25, variant).with_u(0.3, 0.7).is_err(), "{variant}");
    }
}

#[test]
fn repeated_pooling_gives_a_row_of_shrinking_images_per_graham_variant() {
    let image = Tensor::rand([3, 32, 32], (Kind::Float, Device::Cpu));
    let rows = support::fmp::repeated_pooling(&image, &[25, 20, 16]).unwrap();
    let names: Vec<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "pseudorandom-overlapping",
            "pseudorandom-disjoint",
            "random-overlapping",
            "random-disjoint"
        ]
    );
    for (_, steps) in &rows {
        let sides: Vec<i64> = steps.iter().map(|t| t.size()[2]).collect();
        assert_eq!(sides, [32, 25, 20, 16]);
    }
    let err = support::fmp::repeated_pooling(&image, &[25, 10]).unwrap_err();
    assert!(
        err.to_string().contains("25"),
        "25 -> 10 is more than halving: {err}"
    );
}

#[test]
fn per_image_draws_give_the_images_of_a_batch_their_own_regions() {
    tch::manual_seed(5);
    let image = Tensor::randn([1, 3, 25, 25], (Kind::Float, Device::Cpu));
    let batch = image.repeat([8, 1, 1, 1]).set_requires_grad(true);
    for regions in Regions::GRAHAM {
        let shared = Fmp::new(18, regions).try_forward(&batch).unwrap();
        let own = Fmp::new(18, regions)
            .per_image()
            .try_forward(&batch)
            .unwrap();
        assert_eq!(own.size(), [8, 3, 18, 18]);
        let same = |y: &Tensor| (1..8).all(|i| y.get(i).equal(&y.get(0)));
        assert!(
            same(&shared),
            "{regions}: one draw per batch pools equal images alike"
        );
        assert!(
            !same(&own),
            "{regions}: per-image draws pooled all eight copies alike"
        );
        // Each image's output is a pooling of it alone: the gradient reaches every copy.
        own.sum(Kind::Float).backward();
        let grad = batch.grad();
        for i in 0..8 {
            assert!(
                grad.get(i).sum(Kind::Float).double_value(&[]) > 0.0,
                "{regions} image {i}"
            );
        }
        let _ = grad.shallow_clone().zero_();
    }
}
