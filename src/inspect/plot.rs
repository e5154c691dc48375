//! `graphprep inspect --plot DIR`: charts of a [`Report`] as SVG and PNG (plotters), drawn
//! from the numbers the report already holds (no second pass over the output).
//!
//! Files, each as `<stem>.svg` and `<stem>.png` (stems are [`sanitize`]d: characters other than
//! ASCII letters, digits, `_`, `-` and `.` become `_`; a repeated stem gets `_2`, `_3`, ...):
//! * `degree_<src>_<rel>_<dst>`: per edge type with edges, log-log, number of nodes with
//!   out-/in-degree `d` against `d` (nodes of degree 0 cannot sit on a log axis; the legend
//!   gives their number);
//! * `balance`: inner nodes per partition stacked by node type, and inner edges per partition
//!   stacked by edge type;
//! * `label_<owner>_<name>`: class counts of an integer label (float labels have no chart);
//! * `masks`: set rows of every mask, grouped by owner type, one bar per mask name.
//!
//! A chart without data (no edges, no integer labels, no masks) is not written; [`Plotted`]
//! says which were written and which skipped, for the CLI to report on stderr.
//!
//! Text is set in DejaVu Sans, embedded in the binary (`assets/fonts/`), through plotters'
//! `ab_glyph` renderer, so no system font library is involved.
//!
//! # Memory
//! One RGB frame of [`SIZE`] (about 1.3 MB) while a PNG is drawn.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::Report;
use crate::error::{Error, Result};

/// Width and height of every chart, in pixels (PNG) or SVG user units.
pub const SIZE: (u32, u32) = (900, 500);

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// Okabe–Ito colours (distinguishable with the common colour-vision deficiencies), cycled.
const COLORS: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

fn color(i: usize) -> RGBColor {
    COLORS[i % COLORS.len()]
}

/// What `--plot` did: the stems written (each as `.svg` and `.png`) and the charts skipped,
/// with the reason.
#[derive(Debug, Default)]
pub struct Plotted {
    pub written: Vec<String>,
    pub skipped: Vec<String>,
}

/// `name` with every character outside `[A-Za-z0-9_.-]` replaced by `_`.
pub fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A bar chart over categories: one bar per series in each category, side by side, or one
/// stacked bar.
struct Bars {
    title: String,
    x_desc: String,
    y_desc: String,
    categories: Vec<String>,
    /// `(legend name, value per category)`; the legend is drawn when there are two or more.
    series: Vec<(String, Vec<u64>)>,
    stacked: bool,
}

/// A log-log degree distribution: per series the `(degree, nodes)` points with degree ≥ 1.
struct LogLog {
    title: String,
    series: Vec<(String, Vec<(u64, u64)>)>,
}

enum Chart {
    LogLog(LogLog),
    Bars(Bars),
    /// Side by side, same height.
    Pair(Box<Bars>, Box<Bars>),
}

/// Writes the charts of `report` into `dir` (created when missing).
pub fn write_charts(report: &Report, dir: &Path) -> Result<Plotted> {
    std::fs::create_dir_all(dir).map_err(|e| Error::write(dir, e))?;
    register_font(dir)?;
    let mut done = Plotted::default();
    let mut stems = BTreeSet::new();
    for (stem, chart) in charts(report, &mut done.skipped) {
        let base = sanitize(&stem);
        let mut unique = base.clone();
        let mut k = 1;
        while !stems.insert(unique.clone()) {
            k += 1;
            unique = format!("{base}_{k}");
        }
        save(&chart, dir, &unique)?;
        done.written.push(unique);
    }
    Ok(done)
}

/// Registers the embedded font once per process; every call reports whether that worked.
fn register_font(dir: &Path) -> Result<()> {
    static OK: OnceLock<bool> = OnceLock::new();
    let ok =
        *OK.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(Error::write(
            dir,
            std::io::Error::other("the embedded chart font cannot be loaded"),
        ))
    }
}

/// The charts that have data, with their stems; the others are named in `skipped`.
fn charts(r: &Report, skipped: &mut Vec<String>) -> Vec<(String, Chart)> {
    let mut out = Vec::new();
    for e in &r.edge_types {
        if e.total == 0 {
            skipped.push(format!("degree chart of {}: no edges", e.name));
            continue;
        }
        let series = [("out-degree", &e.out_degree), ("in-degree", &e.in_degree)]
            .into_iter()
            .map(|(what, d)| {
                let zero = d.histogram.iter().find(|p| p.0 == 0).map_or(0, |p| p.1);
                let name = if zero > 0 {
                    format!("{what} ({zero} nodes with 0 not shown)")
                } else {
                    what.to_string()
                };
                (
                    name,
                    d.histogram.iter().copied().filter(|p| p.0 > 0).collect(),
                )
            })
            .collect();
        let title = format!("Degree distribution of {} ({} edges)", e.name, e.total);
        out.push((
            format!("degree_{}", e.name),
            Chart::LogLog(LogLog { title, series }),
        ));
    }

    let parts: Vec<String> = (0..r.num_parts).map(|p| p.to_string()).collect();
    let per_type = |name: &str, v: &[u64]| (name.to_string(), v.to_vec());
    if r.num_nodes > 0 {
        let side = |what: &str, series: Vec<(String, Vec<u64>)>| Bars {
            title: format!("Inner {what} per partition"),
            x_desc: "partition".into(),
            y_desc: what.into(),
            categories: parts.clone(),
            series,
            stacked: true,
        };
        let nodes = r
            .node_types
            .iter()
            .map(|t| per_type(&t.name, &t.per_partition));
        let edges = r
            .edge_types
            .iter()
            .map(|t| per_type(&t.name, &t.per_partition));
        out.push((
            "balance".into(),
            Chart::Pair(
                Box::new(side("nodes", nodes.collect())),
                Box::new(side("edges", edges.collect())),
            ),
        ));
    } else {
        skipped.push("balance chart: no nodes".into());
    }

    let mut any_int = false;
    for l in &r.labels {
        let Some(classes) = &l.classes else { continue };
        any_int = true;
        let total: u64 = classes.values().sum();
        out.push((
            format!("label_{}_{}", l.owner, l.name),
            Chart::Bars(Bars {
                title: format!("Label '{}' of {} ({total} rows)", l.name, l.owner),
                x_desc: "class".into(),
                y_desc: "rows".into(),
                categories: classes.keys().map(i64::to_string).collect(),
                series: vec![("rows".into(), classes.values().copied().collect())],
                stacked: false,
            }),
        ));
    }
    if !any_int {
        skipped.push(if r.labels.is_empty() {
            "label charts: no labels".into()
        } else {
            "label charts: no integer (class) labels".into()
        });
    }

    if r.masks.is_empty() {
        skipped.push("mask chart: no masks".into());
    } else {
        let owners: Vec<String> = r
            .masks
            .iter()
            .map(|m| m.owner.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut by_name: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
        for m in &r.masks {
            let i = owners.iter().position(|o| *o == m.owner).unwrap_or(0);
            by_name
                .entry(&m.name)
                .or_insert_with(|| vec![0; owners.len()])[i] = m.set;
        }
        let mut series: Vec<(String, Vec<u64>)> = by_name
            .into_iter()
            .map(|(n, v)| (n.to_string(), v))
            .collect();
        // train, val, test first (in that order), any other mask after them.
        let rank = |n: &str| {
            ["train", "val", "test"]
                .iter()
                .position(|p| n.starts_with(p))
        };
        series.sort_by_key(|(n, _)| rank(n).unwrap_or(3));
        out.push((
            "masks".into(),
            Chart::Bars(Bars {
                title: "Mask sizes (rows set) per type".into(),
                x_desc: "type".into(),
                y_desc: "rows set".into(),
                categories: owners,
                series,
                stacked: false,
            }),
        ));
    }
    out
}

/// Draws `chart` into `<stem>.svg` and `<stem>.png`.
fn save(chart: &Chart, dir: &Path, stem: &str) -> Result<()> {
    let svg = dir.join(format!("{stem}.svg"));
    let png = dir.join(format!("{stem}.png"));
    let fail = |p: &Path, e: String| Error::write(p, std::io::Error::other(e));
    draw(chart, SVGBackend::new(&svg, SIZE).into_drawing_area()).map_err(|e| fail(&svg, e))?;
    draw(chart, BitMapBackend::new(&png, SIZE).into_drawing_area()).map_err(|e| fail(&png, e))
}

type Drawn = std::result::Result<(), String>;

fn draw<DB: DrawingBackend>(chart: &Chart, root: DrawingArea<DB, Shift>) -> Drawn {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    match chart {
        Chart::LogLog(c) => loglog(&root, c)?,
        Chart::Bars(c) => bars(&root, c)?,
        Chart::Pair(a, b) => {
            let (l, r) = root.split_horizontally(SIZE.0 / 2);
            bars(&l, a)?;
            bars(&r, b)?;
        }
    }
    root.present().map_err(err)
}

/// `v` without a fractional part when it has none, else with one decimal.
fn tick(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn loglog<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, c: &LogLog) -> Drawn {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let points = || c.series.iter().flat_map(|s| s.1.iter());
    let max_d = points().map(|p| p.0).max().unwrap_or(1).max(2) as f64;
    let max_n = points().map(|p| p.1).max().unwrap_or(1).max(2) as f64;
    // Headroom above for the legend, a margin on the log scale around the points.
    let mut chart = ChartBuilder::on(root)
        .caption(&c.title, (FAMILY, 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(
            (0.8f64..max_d * 1.25).log_scale(),
            (0.8f64..max_n * 2.5).log_scale(),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("degree d (log)")
        .y_desc("nodes with degree d (log)")
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .light_line_style(TRANSPARENT)
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 16))
        .draw()
        .map_err(err)?;
    for (i, (name, pts)) in c.series.iter().enumerate() {
        let col = color(i);
        let xy = pts.iter().map(|&(d, n)| (d as f64, n as f64));
        chart
            .draw_series(LineSeries::new(xy.clone(), col.stroke_width(2)))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], col.stroke_width(2)));
        chart
            .draw_series(xy.map(|p| Circle::new(p, 3, col.filled())))
            .map_err(err)?;
    }
    legend(&mut chart).map_err(err)
}

fn legend<'a, DB: DrawingBackend + 'a, X: Ranged, Y: Ranged>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FAMILY, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.5))
        .draw()
}

fn bars<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, c: &Bars) -> Drawn {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let n = c.categories.len().max(1);
    let top = if c.stacked {
        (0..n)
            .map(|i| {
                c.series
                    .iter()
                    .map(|s| s.1.get(i).copied().unwrap_or(0))
                    .sum()
            })
            .max()
    } else {
        c.series.iter().flat_map(|s| s.1.iter().copied()).max()
    }
    .unwrap_or(0)
    .max(1);
    let with_legend = c.series.len() > 1;
    // Room above the bars for the legend (one line per series) or a little air.
    let top = if with_legend {
        top + top * (c.series.len() as u64 * 9 + 10) / 100 + 1
    } else {
        top + top / 10 + 1
    };
    let mut chart = ChartBuilder::on(root)
        .caption(&c.title, (FAMILY, 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5f64..n as f64 - 0.5, 0u64..top)
        .map_err(err)?;
    // Category names are drawn below the axis at the bar centres (the mesh's own x labels
    // would sit at round numbers).
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc(&c.x_desc)
        .y_desc(&c.y_desc)
        .x_labels(0)
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 16))
        .draw()
        .map_err(err)?;
    let k = if c.stacked { 1 } else { c.series.len().max(1) };
    let width = 0.75 / k as f64;
    let mut base = vec![0u64; n];
    for (j, (name, vals)) in c.series.iter().enumerate() {
        let col = color(j);
        let slot = if c.stacked { 0 } else { j };
        let rects = (0..n).map(|i| {
            let v = vals.get(i).copied().unwrap_or(0);
            let y0 = if c.stacked { base[i] } else { 0 };
            base[i] = y0 + v;
            let x0 = i as f64 - 0.375 + slot as f64 * width;
            Rectangle::new([(x0, y0), (x0 + width, y0 + v)], col.filled())
        });
        let drawn = chart.draw_series(rects).map_err(err)?;
        if with_legend {
            drawn
                .label(name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], col.filled()));
        }
    }
    if with_legend {
        legend(&mut chart).map_err(err)?;
    }
    // At most ~40 names fit under the axis; with more, every `step`-th is shown.
    let step = n.div_ceil(40);
    let longest = c
        .categories
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(1);
    let font = (FAMILY, if longest > 20 { 12 } else { 14 })
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    for (i, name) in c.categories.iter().enumerate().step_by(step) {
        // backend_coord is in the whole image; `root` may be one half of it.
        let ((x, y), (x0, y0)) = (chart.backend_coord(&(i as f64, 0)), root.get_base_pixel());
        root.draw(&Text::new(
            name.as_str(),
            (x - x0, y - y0 + 8),
            font.clone(),
        ))
        .map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_file_names() {
        assert_eq!(sanitize("user:buys:item"), "user_buys_item");
        assert_eq!(sanitize("a b/c.d-e"), "a_b_c.d-e");
    }
}
