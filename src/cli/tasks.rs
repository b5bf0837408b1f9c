//! `taskonomy tasks`: list a task dictionary.

use clap::{Args, ValueEnum};
use serde::Serialize;
use taskonomy_core::spec::{Dictionary, TaskSpec};

/// List the dictionary's tasks: names, aliases, outputs, losses, where their labels come from, views,
/// label costs, importances and descriptions.
#[derive(Debug, Args)]
pub struct TasksArgs {
    /// How to print the list.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// An aligned table, one task per line.
    Table,
    /// A JSON array, one object per task.
    Json,
}

/// One task as printed in JSON.
#[derive(Serialize)]
struct TaskRow<'a> {
    name: &'a str,
    type_name: &'a str,
    aliases: &'a [&'a str],
    domain: &'a str,
    output: String,
    output_kind: &'a str,
    output_size: usize,
    loss: &'a str,
    views: usize,
    label_cost: f64,
    importance: f64,
    decoder: &'a str,
    labels: &'a str,
    domain_encoding: Option<String>,
    source: bool,
    target: bool,
    doc: &'a str,
}

impl<'a> TaskRow<'a> {
    fn new<D: Dictionary>(task: D, spec: &'a TaskSpec) -> Self {
        TaskRow {
            name: spec.name,
            type_name: spec.type_name,
            aliases: spec.aliases,
            domain: spec.domain,
            output: spec.output.to_string(),
            output_kind: spec.output.kind.type_name(),
            output_size: spec.output.size,
            loss: spec.loss.type_name(),
            views: spec.views,
            label_cost: spec.label_cost,
            importance: spec.importance,
            decoder: spec.decoder,
            labels: spec.labelling.describe(),
            domain_encoding: spec.encoding.map(|e| e.to_string()),
            source: task.is_source(),
            target: task.is_target(),
            doc: spec.doc,
        }
    }
}

pub fn run<D: Dictionary>(args: TasksArgs) -> anyhow::Result<()> {
    let rows: Vec<TaskRow> = D::ALL
        .iter()
        .map(|&task| TaskRow::new(task, task.spec()))
        .collect();
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Table => print!("{}", table(&rows)),
    }
    Ok(())
}

/// The rows as an aligned text table with a header.
fn table(rows: &[TaskRow]) -> String {
    let header = [
        "name",
        "aliases",
        "output",
        "loss",
        "labels",
        "views",
        "ℓ",
        "r",
        "role",
        "description",
    ];
    let cells: Vec<[String; 10]> = rows
        .iter()
        .map(|row| {
            let role = match (row.source, row.target) {
                (true, true) => "both",
                (true, false) => "source",
                (false, true) => "target",
                (false, false) => "-",
            };
            [
                row.name.to_string(),
                row.aliases.join(","),
                row.output.clone(),
                row.loss.to_string(),
                row.labels.to_string(),
                row.views.to_string(),
                row.label_cost.to_string(),
                row.importance.to_string(),
                role.to_string(),
                row.doc.lines().next().unwrap_or("").to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    };
    line(&header);
    for row in &cells {
        line(&row.each_ref().map(String::as_str));
    }
    out
}
