//! The FMP layer's fast paths compute the same function and gradient as the
//! straightforward per-region maximum: the Rust kernels (`f32` on the CPU, plane by plane
//! and channels-last), the tensor-op path every other kind and device takes (tested here
//! with `f64`), and the maxima returned directly when no gradient is needed.

use support::fmp::{Fmp, Regions};
use support::layout::{is_channels_last, to_channels_last_on_cpu};
use tch::nn::ModuleT;
use tch::{Device, Kind, Tensor};

/// Each region's maximum, one `narrow` + `amax` per region: slow but plainly right.
fn straightforward(pool: &Fmp, x: &Tensor) -> Tensor {
    let size = x.size();
    let (rows, cols) = pool
        .intervals(size[2], size[3])
        .expect("seeded regions have intervals");
    let out: Vec<Tensor> = rows
        .iter()
        .map(|r| {
            let cells: Vec<Tensor> = cols
                .iter()
                .map(|c| {
                    x.narrow(2, r.first, r.last - r.first + 1)
                        .narrow(3, c.first, c.last - c.first + 1)
                        .amax([2, 3], false)
                })
                .collect();
            Tensor::stack(&cells, 2)
        })
        .collect();
    Tensor::stack(&out, 2)
}

fn pools() -> Vec<Fmp> {
    [
        Regions::PseudorandomOverlapping,
        Regions::PseudorandomDisjoint,
        Regions::RandomOverlapping,
        Regions::RandomDisjoint,
    ]
    .into_iter()
    .map(|r| Fmp::new(10, r).with_seed(7))
    .collect()
}

/// The kinds and layouts to test: `f32` both plane by plane and channels-last.
const CASES: [(Kind, bool); 3] = [
    (Kind::Float, false),
    (Kind::Float, true),
    (Kind::Double, false),
];

/// `x` in the case's layout.
fn laid_out(x: Tensor, channels_last: bool) -> Tensor {
    if channels_last {
        let y = to_channels_last_on_cpu(&x);
        assert!(is_channels_last(&y));
        y
    } else {
        x
    }
}

#[test]
fn fmp_output_and_gradient_match_per_region_maxima() {
    for (kind, channels_last) in CASES {
        output_and_gradient_match(kind, channels_last);
    }
}

fn output_and_gradient_match(kind: Kind, channels_last: bool) {
    tch::manual_seed(3);
    let x = laid_out(
        Tensor::randn([3, 4, 14, 14], (kind, Device::Cpu)),
        channels_last,
    );
    let g = Tensor::randn([3, 4, 10, 10], (kind, Device::Cpu));
    for pool in pools() {
        let grads: Vec<(Tensor, Tensor)> = [true, false]
            .into_iter()
            .map(|fast| {
                let leaf = x.detach().set_requires_grad(true);
                let y = if fast {
                    pool.forward_t(&leaf, true)
                } else {
                    straightforward(&pool, &leaf)
                };
                let s = (&y * &g).sum(kind);
                let grad = Tensor::run_backward(&[&s], &[&leaf], false, false).remove(0);
                (y.detach(), grad)
            })
            .collect();
        let ((y1, g1), (y0, g0)) = (&grads[0], &grads[1]);
        let case = format!(
            "{:?} {kind:?} channels-last {channels_last}",
            pool.regions()
        );
        assert!(y1.allclose(y0, 0.0, 0.0, false), "{case}: outputs differ");
        assert!(
            g1.allclose(g0, 1e-6, 1e-6, false),
            "{case}: gradients differ"
        );
        assert_eq!(
            is_channels_last(y1),
            channels_last,
            "{case}: layout not kept"
        );
    }
}

#[test]
fn fmp_without_gradient_gives_the_same_maxima() {
    for (kind, channels_last) in CASES {
        tch::manual_seed(4);
        let x = laid_out(
            Tensor::randn([2, 3, 14, 14], (kind, Device::Cpu)),
            channels_last,
        );
        for pool in pools() {
            let with_grad = pool.forward_t(&x.detach().set_requires_grad(true), true);
            let without = tch::no_grad(|| pool.forward_t(&x, false));
            assert!(!without.requires_grad());
            assert!(
                with_grad.detach().equal(&without),
                "{:?} {kind:?}",
                pool.regions()
            );
        }
    }
}

/// A NaN is the maximum of every region it falls in, as with libtorch's max-pooling, so
/// a diverging net shows NaN instead of silently pooling around it.
#[test]
fn fmp_passes_nan_on_like_the_per_region_maxima() {
    for (kind, channels_last) in CASES {
        tch::manual_seed(5);
        let x = Tensor::randn([2, 3, 14, 14], (kind, Device::Cpu));
        let _ = x.get(1).get(2).get(6).get(9).fill_(f64::NAN);
        let x = laid_out(x, channels_last);
        for pool in pools() {
            let fast = pool.forward_t(&x, false);
            let expected = straightforward(&pool, &x);
            assert!(
                fast.isnan().equal(&expected.isnan()),
                "{:?} {kind:?}: NaN cells differ",
                pool.regions()
            );
            assert!(
                fast.isnan().any().int64_value(&[]) == 1,
                "the NaN was pooled away"
            );
            assert!(
                fast.nan_to_num(0.0, None, None)
                    .equal(&expected.nan_to_num(0.0, None, None)),
                "{:?} {kind:?}: outputs differ",
                pool.regions()
            );
        }
    }
}

/// libtorch's windows (`Regions::Native`) are pooled by the crate's own kernel on an `f32`
/// CPU tensor. It draws the same samples as libtorch's op would and must give exactly its
/// output and gradient, in either layout, keeping the layout, on sizes from 2 -> 1 up,
/// with many equal values (ties pick the same position) and with NaNs.
#[test]
fn native_regions_match_libtorchs_op_exactly() {
    let sizes = [(2, 1), (3, 2), (7, 4), (14, 10), (28, 20), (13, 12)];
    for channels_last in [false, true] {
        for (i, &(side, out)) in sizes.iter().enumerate() {
            let case = format!("{side} -> {out}, channels-last {channels_last}");
            tch::manual_seed(i as i64);
            // Values in {-2, ..., 2}: most windows hold equal values.
            let x = Tensor::randn([3, 5, side, side], (Kind::Float, Device::Cpu)).round();
            if side > 2 {
                let _ = x.get(2).get(3).get(1).get(1).fill_(f64::NAN);
            }
            let x = laid_out(x, channels_last);
            let g = Tensor::randn([3, 5, out, out], (Kind::Float, Device::Cpu));
            let pooled = |ours: bool| {
                let leaf = x.detach().set_requires_grad(true);
                tch::manual_seed(100 + i as i64);
                let y = if ours {
                    Fmp::new(out, Regions::Native).forward_t(&leaf, true)
                } else {
                    let samples = Tensor::rand([3, 5, 2], (Kind::Float, Device::Cpu));
                    leaf.fractional_max_pool2d([2, 2], [out, out], &samples).0
                };
                let s = (&y * &g).sum(Kind::Float);
                let grad = Tensor::run_backward(&[&s], &[&leaf], false, false).remove(0);
                (y.detach(), grad)
            };
            let ((y1, g1), (y0, g0)) = (pooled(true), pooled(false));
            assert!(
                y1.nan_to_num(9.0, None, None)
                    .equal(&y0.nan_to_num(9.0, None, None)),
                "{case}: outputs differ"
            );
            // Equal up to the order in which a position's several windows add up.
            let close = g1.allclose(&g0, 1e-6, 1e-6, false);
            assert!(close, "{case}: gradients differ");
            // A 1x1 output is plane by plane and channels-last at once.
            let kept = out == 1 || is_channels_last(&y1) == is_channels_last(&x);
            assert!(kept, "{case}: layout not kept");
            let without = tch::no_grad(|| {
                tch::manual_seed(100 + i as i64);
                Fmp::new(out, Regions::Native).forward_t(&x, false)
            });
            assert!(
                without
                    .nan_to_num(9.0, None, None)
                    .equal(&y0.nan_to_num(9.0, None, None)),
                "{case}: outputs without a gradient differ"
            );
        }
    }
}
