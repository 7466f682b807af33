//! Facts about sizing an FMP net backwards from its head (Graham 2014, fmp.md).

use support::fmp::{fmp_size_table, fmp_sizes, parse_alpha};

#[test]
fn fmp_sizes_for_mnist_match_the_paper() -> anyhow::Result<()> {
    let sizes = fmp_sizes(2f64.sqrt(), 6)?;
    assert_eq!(sizes.input, 36, "MNIST FMP net input side");
    assert_eq!(
        sizes.pooled,
        vec![25, 17, 11, 7, 4, 2],
        "MNIST pooled sides"
    );
    let chain: Vec<String> = sizes.chain().iter().map(i64::to_string).collect();
    assert_eq!(chain.join("-"), "36-35-25-24-17-16-11-10-7-6-4-3-2-1");
    Ok(())
}

#[test]
fn fmp_sizes_for_cifar_match_the_paper() -> anyhow::Result<()> {
    let sizes = fmp_sizes(2f64.powf(1.0 / 3.0), 12)?;
    assert_eq!(sizes.input, 94, "CIFAR FMP net input side");
    assert_eq!(sizes.pooled.len(), 12);
    assert_eq!(sizes.pooled.last(), Some(&2), "the head's C2 needs 2x2");
    Ok(())
}

#[test]
fn every_block_of_a_sized_net_is_a_valid_pooling_near_alpha() -> anyhow::Result<()> {
    for alpha in [1.25, 1.3, 2f64.powf(1.0 / 3.0), 1.5, 2f64.sqrt(), 1.7, 2.0] {
        for layers in 1..=14 {
            let sizes = fmp_sizes(alpha, layers)?;
            let steps = sizes.steps();
            assert_eq!(steps.len(), layers);
            assert_eq!(steps[0].conv_in, sizes.input);
            for s in &steps {
                assert_eq!(
                    s.conv_out,
                    s.conv_in - 1,
                    "a 2x2 valid convolution loses one"
                );
                assert!(
                    s.pool_out >= 1 && s.pool_out < s.conv_out && s.conv_out <= 2 * s.pool_out,
                    "block {} pools {} -> {}, not by a ratio in (1, 2]",
                    s.block,
                    s.conv_out,
                    s.pool_out
                );
                // Graham's rounding of pool_out * alpha is within half a pixel.
                let exact = s.pool_out as f64 * alpha;
                assert!(
                    (s.conv_out as f64 - exact).abs() <= 0.5,
                    "{s:?} for alpha {alpha}"
                );
            }
            for pair in steps.windows(2) {
                assert_eq!(pair[1].conv_in, pair[0].pool_out);
            }
        }
    }
    Ok(())
}

#[test]
fn alpha_2_gives_ordinary_max_pooling_sizes() -> anyhow::Result<()> {
    let sizes = fmp_sizes(2.0, 3)?;
    assert!(sizes.steps().iter().all(|s| s.conv_out == 2 * s.pool_out));
    Ok(())
}

#[test]
fn alpha_outside_1_to_2_is_a_clear_error() {
    for alpha in [1.0, 0.5, 2.01, 3.0, -1.0, f64::NAN, f64::INFINITY] {
        let err = fmp_sizes(alpha, 6).expect_err("alpha outside (1, 2] must be rejected");
        assert!(err.to_string().contains("outside (1, 2]"), "{err}");
    }
}

#[test]
fn zero_layers_is_a_clear_error() {
    let err = fmp_sizes(2f64.sqrt(), 0).expect_err("zero layers must be rejected");
    assert!(err.to_string().contains("at least one"), "{err}");
}

#[test]
fn alpha_too_close_to_1_to_shrink_the_grid_is_a_clear_error() {
    let err = fmp_sizes(1.1, 3).expect_err("alpha 1.1 rounds 2 * alpha back to 2");
    assert!(err.to_string().contains("does not shrink"), "{err}");
}

#[test]
fn absurdly_deep_nets_are_a_clear_error_not_an_overflow() {
    let err = fmp_sizes(2.0, 100).expect_err("2^100 is no image size");
    assert!(err.to_string().contains("fewer layers"), "{err}");
}

#[test]
fn size_table_has_one_row_per_block_matching_the_sizes() -> anyhow::Result<()> {
    let table = fmp_size_table(2f64.sqrt(), 6)?;
    assert_eq!(table.height(), 6);
    let names: Vec<String> = table
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(names, ["block", "conv_in", "conv_out", "pool_out", "ratio"]);
    let column = table.column("pool_out")?.i64()?.clone();
    let pooled: Vec<Option<i64>> = (0..table.height()).map(|i| column.get(i)).collect();
    let expected: Vec<Option<i64>> = fmp_sizes(2f64.sqrt(), 6)?
        .pooled
        .into_iter()
        .map(Some)
        .collect();
    assert_eq!(pooled, expected);
    Ok(())
}

#[test]
fn alpha_can_be_written_as_in_the_paper() -> anyhow::Result<()> {
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(parse_alpha("sqrt2")?, 2f64.sqrt()));
    assert!(close(parse_alpha("sqrt(2)")?, 2f64.sqrt()));
    assert!(close(parse_alpha("2^(1/3)")?, 2f64.powf(1.0 / 3.0)));
    assert!(close(parse_alpha("2^0.5")?, 2f64.sqrt()));
    assert!(close(parse_alpha(" 1.5 ")?, 1.5));
    Ok(())
}

#[test]
fn unreadable_alpha_is_a_clear_error() {
    for text in ["", "abc", "2^", "sqrt", "1/0x"] {
        let err = parse_alpha(text).expect_err("not a number");
        assert!(
            err.to_string().contains("cannot read alpha"),
            "{text:?}: {err}"
        );
    }
}
