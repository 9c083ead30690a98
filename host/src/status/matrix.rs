//! `status` as a matrix: migrations as rows, environments as columns, then
//! each environment's state and what explains it. Colour only on a terminal.

use super::StatusResult;
use crate::report::style::Style;

/// Shown where an environment has no row for a migration (one applied
/// elsewhere and missing from the folder).
const ABSENT: &str = "·";

pub fn print(result: &StatusResult) {
    print!("{}", render(result, Style::for_stdout()));
}

pub fn render(result: &StatusResult, style: Style) -> String {
    let mut rows: Vec<String> = result.migrations.clone();
    for env in &result.environments {
        for name in env.migrations.keys() {
            if !rows.contains(name) {
                rows.push(name.clone());
            }
        }
    }
    let heading = format!("migrations ({})", result.migrations_directory);
    let first = rows
        .iter()
        .map(|row| row.chars().count())
        .chain([heading.chars().count(), "database".len()])
        .max()
        .unwrap_or(0);
    let widths: Vec<usize> = result
        .environments
        .iter()
        .map(|env| {
            env.migrations
                .values()
                .map(|state| state.len())
                .chain([
                    env.name.chars().count(),
                    env.state.as_str().len(),
                    env.database_name
                        .as_deref()
                        .map_or(1, |n| n.chars().count()),
                ])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |label: &str, cells: Vec<(String, String)>| {
        let mut text = format!("{label:<first$}");
        for ((plain, painted), width) in cells.into_iter().zip(&widths) {
            let pad = width.saturating_sub(plain.chars().count());
            text.push_str(&format!("  {painted}{}", " ".repeat(pad)));
        }
        text.trim_end().to_owned() + "\n"
    };
    let mut out = line(
        &heading,
        result
            .environments
            .iter()
            .map(|env| (env.name.clone(), style.bold(&env.name)))
            .collect(),
    );
    for row in &rows {
        let cells = result
            .environments
            .iter()
            .map(|env| {
                let state = env.migrations.get(row).copied().unwrap_or(ABSENT);
                (state.to_owned(), paint(style, state))
            })
            .collect();
        out.push_str(&line(row, cells));
    }
    out.push('\n');
    out.push_str(&line(
        "state",
        result
            .environments
            .iter()
            .map(|env| {
                let state = env.state.as_str();
                (state.to_owned(), paint(style, state))
            })
            .collect(),
    ));
    out.push_str(&line(
        "database",
        result
            .environments
            .iter()
            .map(|env| {
                let name = env.database_name.clone().unwrap_or_else(|| "-".to_owned());
                (name.clone(), style.dim(&name))
            })
            .collect(),
    ));
    let mut notes = String::new();
    for env in &result.environments {
        if let Some(detail) = &env.detail {
            notes.push_str(&format!("{}: {detail}\n", style.bold(&env.name)));
        }
        if let Some(fleet) = &env.fleet {
            for tenant in &fleet.problems {
                let state = tenant.state.as_str();
                let detail = tenant.detail.as_deref().unwrap_or_default();
                notes.push_str(&format!(
                    "  {} {}: {detail}\n",
                    paint(style, state),
                    tenant.tenant
                ));
            }
            for tenant in &fleet.laggards {
                notes.push_str(&format!(
                    "  {} {}: {} migration(s) pending\n",
                    paint(style, "pending"),
                    tenant.tenant,
                    tenant.pending
                ));
            }
            if fleet.unnamed > 0 {
                notes.push_str(&format!(
                    "  … and {} more (--json lists the counts)\n",
                    fleet.unnamed
                ));
            }
        }
        if let Some(drift) = &env.drift {
            match drift.status {
                "found" => {
                    notes.push_str(&format!(
                        "{}: schema drift, {} difference(s) from its migrations:\n",
                        style.bold(&env.name),
                        drift.differences.len()
                    ));
                    for difference in &drift.differences {
                        notes.push_str(&format!("  {}\n", style.red(&difference.to_string())));
                    }
                }
                "unknown" => notes.push_str(&format!(
                    "{}: schema drift unknown: {}\n",
                    style.bold(&env.name),
                    drift.reason.as_deref().unwrap_or_default()
                )),
                _ => notes.push_str(&format!("{}: no schema drift\n", style.bold(&env.name))),
            }
        }
    }
    if !notes.is_empty() {
        out.push('\n');
        out.push_str(&notes);
    }
    out.push('\n');
    out
}

fn paint(style: Style, state: &str) -> String {
    match state {
        "applied" | "up-to-date" => style.green(state),
        "pending" | "rolled-back" | "not-initialized" => style.yellow(state),
        "failed" | "modified" | "missing" | "drift" | "error" => style.red(state),
        _ => style.dim(state),
    }
}
