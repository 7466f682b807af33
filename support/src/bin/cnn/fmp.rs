//! `cnn fmp-sizes`: the backwards size calculation of an FMP net, block by block.

use anyhow::Result;
use support::fmp::{fmp_size_table, fmp_sizes, parse_alpha};

/// Prints the input side, the chain of sides and the per-block table for `alpha`
/// (a number, `sqrt2` or a power like `2^(1/3)`) and `layers` blocks.
pub fn run(alpha: &str, layers: usize) -> Result<()> {
    let a = parse_alpha(alpha)?;
    let sizes = fmp_sizes(a, layers)?;
    let chain: Vec<String> = sizes.chain().iter().map(i64::to_string).collect();
    println!("alpha = {a:.6}, layers = {layers}");
    println!("input: {0}x{0} (pad the images to this)", sizes.input);
    println!("pooled: {:?}", sizes.pooled);
    println!("sides: {}", chain.join("-"));
    println!("{}", fmp_size_table(a, layers)?);
    Ok(())
}
