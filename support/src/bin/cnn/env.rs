//! `cnn env`: what this machine offers the course.

use anyhow::Result;
use support::device;

pub fn run() -> Result<()> {
    let table = device::environment(&device::choose_device(None)?)?;
    let items = table.column("item")?.str()?;
    let values = table.column("value")?.str()?;
    for (item, value) in items.iter().zip(values.iter()) {
        println!("{}: {}", item.unwrap_or(""), value.unwrap_or(""));
    }
    Ok(())
}
