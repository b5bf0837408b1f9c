//! `taskonomy show`: one view's contact sheet, RGB and every task's label side by side.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use taskonomy_core::data::dataset::Dataset;
use taskonomy_core::data::layout::ViewKey;
use taskonomy_core::data::sheet::contact_sheet;
use taskonomy_core::spec::{Dictionary, TaskSet};

/// Draw the contact sheet of one view of a dataset in the Taskonomy layout: its image and the label of
/// every task of the dictionary.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  taskonomy show data/synthetic --point 0 --view 0 --out sheet.png"
)]
pub struct ShowArgs {
    /// The dataset folder (rendered by `taskonomy render`, or the released data).
    dir: PathBuf,
    /// Building (default: the first, by name).
    #[arg(long)]
    building: Option<String>,
    /// Point number.
    #[arg(long, default_value_t = 0)]
    point: u32,
    /// View number.
    #[arg(long, default_value_t = 0)]
    view: u32,
    /// Seed of the altered inputs (noise, mask, jigsaw), as a run with this seed draws them.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where to write the PNG.
    #[arg(long, value_name = "FILE.png")]
    out: PathBuf,
}

pub fn run<D: Dictionary>(args: ShowArgs) -> anyhow::Result<()> {
    let dataset = Dataset::open(&args.dir)?;
    let building = match args.building {
        Some(b) => b,
        None => dataset.buildings[0].name.clone(),
    };
    let key = ViewKey {
        point: args.point,
        view: args.view,
    };
    let Some(entry) = dataset.buildings.iter().find(|b| b.name == building) else {
        bail!("{}: no building named {building}", args.dir.display());
    };
    if !entry.views.contains(&key) {
        bail!(
            "{}: building {building} has no point {} view {}",
            args.dir.display(),
            key.point,
            key.view
        );
    }
    let sheet = contact_sheet(&dataset, &TaskSet::of::<D>(), &building, key, args.seed)
        .with_context(|| format!("drawing {building} point {} view {}", key.point, key.view))?;
    sheet.write_png(&args.out)?;
    println!(
        "wrote {} ({}×{} px): {building} point {} view {}",
        args.out.display(),
        sheet.width,
        sheet.height,
        key.point,
        key.view
    );
    Ok(())
}
