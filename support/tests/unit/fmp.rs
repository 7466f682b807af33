//! Facts about Graham's pooling regions along one axis (Graham 2014, fmp.md), checked for
//! every valid (N_in, N_out) up to N_out = 40 and several offsets u.

use super::regions::{
    Interval, Regions, check_sizes, native_starts, pseudorandom_boundaries, random_boundaries,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Every (N_in, N_out) with 1 <= N_out <= 40 and N_out < N_in <= 2 N_out.
fn valid_sizes() -> impl Iterator<Item = (i64, i64)> {
    (1..=40_i64).flat_map(|n_out| (n_out + 1..=2 * n_out).map(move |n_in| (n_in, n_out)))
}

/// Offsets in (0, 1): a few random ones and both extremes' neighbours.
fn offsets(rng: &mut StdRng) -> Vec<f64> {
    let mut u: Vec<f64> = (0..4).map(|_| rng.random::<f64>()).collect();
    u.extend([1e-9, 0.5, 1.0 - 1e-9]);
    u
}

/// All boundary sequences to check: pseudorandom and random, for both ends a_N.
fn sequences() -> anyhow::Result<Vec<(i64, i64, Vec<i64>)>> {
    let mut rng = StdRng::seed_from_u64(4);
    let mut all = Vec::new();
    for (n_in, n_out) in valid_sizes() {
        for end in [n_in, n_in - 1].into_iter().filter(|&e| e >= n_out) {
            for u in offsets(&mut rng) {
                all.push((end, n_out, pseudorandom_boundaries(end, n_out, u)?));
            }
            all.push((end, n_out, random_boundaries(end, n_out, &mut rng)?));
        }
    }
    Ok(all)
}

#[test]
fn boundary_steps_are_all_1_or_2() -> anyhow::Result<()> {
    for (end, n_out, a) in sequences()? {
        assert!(
            a.windows(2).all(|w| w[1] - w[0] == 1 || w[1] - w[0] == 2),
            "{end} {n_out} {a:?}"
        );
    }
    Ok(())
}

#[test]
fn boundaries_start_at_0_and_end_at_a_n_with_n_out_steps() -> anyhow::Result<()> {
    for (end, n_out, a) in sequences()? {
        assert_eq!(a.len() as i64, n_out + 1, "N_out + 1 boundaries");
        assert_eq!((a[0], a[a.len() - 1]), (0, end), "{a:?}");
    }
    Ok(())
}

#[test]
fn pseudorandom_boundaries_follow_grahams_formula() -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(5);
    for (n_in, n_out) in valid_sizes() {
        for end in [n_in, n_in - 1].into_iter().filter(|&e| e >= n_out) {
            let alpha = end as f64 / n_out as f64;
            for _ in 0..4 {
                let u: f64 = rng.random_range(0.001..0.999);
                let a = pseudorandom_boundaries(end, n_out, u)?;
                for (i, &ai) in a.iter().enumerate() {
                    let formula = (alpha * (i as f64 + u)).ceil() - (alpha * u).ceil();
                    assert_eq!(
                        ai, formula as i64,
                        "a_{i} for end {end}, N_out {n_out}, u {u}"
                    );
                }
            }
        }
    }
    Ok(())
}

#[test]
fn random_boundaries_have_the_right_count_of_ones_and_twos() -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(6);
    for (n_in, n_out) in valid_sizes() {
        let a = random_boundaries(n_in, n_out, &mut rng)?;
        let twos = a.windows(2).filter(|w| w[1] - w[0] == 2).count() as i64;
        let ones = a.windows(2).filter(|w| w[1] - w[0] == 1).count() as i64;
        assert_eq!(
            (ones, twos),
            (2 * n_out - n_in, n_in - n_out),
            "{n_in} -> {n_out}"
        );
    }
    Ok(())
}

#[test]
fn random_boundaries_are_shuffled_differently_by_different_seeds() -> anyhow::Result<()> {
    let draws: Vec<Vec<i64>> = (0..5)
        .map(|seed| random_boundaries(35, 25, &mut StdRng::seed_from_u64(seed)))
        .collect::<anyhow::Result<_>>()?;
    assert!(
        draws.windows(2).any(|w| w[0] != w[1]),
        "five seeds gave one shuffle"
    );
    Ok(())
}

/// The regions of `variant` along an axis of `n_in` pooled to `n_out`, for several draws.
fn region_draws(variant: Regions, n_in: i64, n_out: i64) -> anyhow::Result<Vec<Vec<Interval>>> {
    let mut rng = StdRng::seed_from_u64((n_in * 100 + n_out) as u64);
    (0..4)
        .map(|_| variant.draw_intervals(n_in, n_out, &mut rng))
        .collect()
}

#[test]
fn every_variant_gives_n_out_regions_covering_the_input() -> anyhow::Result<()> {
    for variant in Regions::ALL {
        for (n_in, n_out) in valid_sizes() {
            for regions in region_draws(variant, n_in, n_out)? {
                assert_eq!(regions.len() as i64, n_out, "{variant} {n_in} -> {n_out}");
                assert_eq!(
                    regions[0].first, 0,
                    "{variant} {n_in} -> {n_out}: {regions:?}"
                );
                assert_eq!(
                    regions[regions.len() - 1].last,
                    n_in - 1,
                    "{variant}: {regions:?}"
                );
                assert!(
                    regions.windows(2).all(|w| w[1].first <= w[0].last + 1),
                    "no gaps"
                );
            }
        }
    }
    Ok(())
}

#[test]
fn disjoint_regions_tile_the_input_with_widths_1_or_2() -> anyhow::Result<()> {
    for variant in [Regions::PseudorandomDisjoint, Regions::RandomDisjoint] {
        for (n_in, n_out) in valid_sizes() {
            for regions in region_draws(variant, n_in, n_out)? {
                assert!(
                    regions.windows(2).all(|w| w[1].first == w[0].last + 1),
                    "{regions:?}"
                );
                assert!(
                    regions.iter().all(|r| (1..=2).contains(&r.width())),
                    "{regions:?}"
                );
                assert_eq!(regions.iter().map(Interval::width).sum::<i64>(), n_in);
            }
        }
    }
    Ok(())
}

#[test]
fn overlapping_neighbours_share_exactly_their_edge_with_widths_2_or_3() -> anyhow::Result<()> {
    for variant in [Regions::PseudorandomOverlapping, Regions::RandomOverlapping] {
        for (n_in, n_out) in valid_sizes() {
            for regions in region_draws(variant, n_in, n_out)? {
                assert!(
                    regions.windows(2).all(|w| w[1].first == w[0].last),
                    "{regions:?}"
                );
                assert!(
                    regions.iter().all(|r| (2..=3).contains(&r.width())),
                    "{regions:?}"
                );
            }
        }
    }
    Ok(())
}

#[test]
fn native_windows_are_2_wide_with_steps_of_1_or_2() -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(7);
    for (n_in, n_out) in valid_sizes() {
        let s = native_starts(n_in, n_out, rng.random::<f64>())?;
        assert_eq!(
            (s[0], s[s.len() - 1]),
            (0, n_in - 2),
            "{n_in} -> {n_out}: {s:?}"
        );
        assert!(
            s.windows(2).all(|w| w[1] - w[0] == 1 || w[1] - w[0] == 2),
            "{s:?}"
        );
    }
    Ok(())
}

#[test]
fn sizes_outside_ratio_1_to_2_are_clear_errors() {
    for (n_in, n_out, says) in [
        (10, 10, "smaller"),
        (9, 10, "smaller"),
        (21, 10, "above 2"),
        (5, 0, "at least 1"),
    ] {
        let err = check_sizes(n_in, n_out).expect_err("impossible pooling");
        assert!(err.to_string().contains(says), "{n_in} -> {n_out}: {err}");
        for variant in Regions::ALL {
            let drawn = variant.draw_intervals(n_in, n_out, &mut StdRng::seed_from_u64(0));
            assert!(drawn.is_err(), "{variant} accepted {n_in} -> {n_out}");
        }
    }
}

#[test]
fn random_regions_are_not_a_function_of_u() {
    for variant in [Regions::RandomOverlapping, Regions::RandomDisjoint] {
        assert!(variant.intervals_for_u(35, 25, 0.5).is_err(), "{variant}");
    }
}

#[test]
fn offsets_outside_0_to_1_are_clear_errors() {
    for u in [-0.1, 1.0, f64::NAN] {
        let err = pseudorandom_boundaries(35, 25, u).expect_err("u must lie in [0, 1)");
        assert!(err.to_string().contains("[0, 1)"), "{err}");
    }
}

#[test]
fn region_names_round_trip_and_unknown_names_list_the_choices() -> anyhow::Result<()> {
    for variant in Regions::ALL {
        assert_eq!(variant.to_string().parse::<Regions>()?, variant);
    }
    assert_eq!(
        "random-disjoint".parse::<Regions>()?,
        Regions::RandomDisjoint
    );
    let err = "random".parse::<Regions>().expect_err("not a variant");
    assert!(
        err.to_string().contains("pseudorandom-overlapping"),
        "{err}"
    );
    Ok(())
}
