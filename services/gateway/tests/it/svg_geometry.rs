//! A small reader of the `equity.svg` the gateway draws, enough to check its geometry: the
//! viewBox, each panel (`<g class="panel" id=...>` framed by its first `<rect class="frame">`),
//! every `polyline` / `polygon` / `line` with the panel it sits in, and the text labels.
//! Shared with the end-to-end tests, which check real runs with it.

#![allow(dead_code)]

use std::collections::BTreeMap;

/// A rectangle: x, y, width, height.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Frame {
    fn contains(&self, (x, y): (f64, f64)) -> bool {
        // Coordinates are written with one decimal.
        const SLACK: f64 = 0.051;
        x >= self.x - SLACK
            && x <= self.x + self.width + SLACK
            && y >= self.y - SLACK
            && y <= self.y + self.height + SLACK
    }

    fn overlaps(&self, other: &Frame) -> bool {
        self.x < other.x + other.width
            && other.x < self.x + self.width
            && self.y < other.y + other.height
            && other.y < self.y + self.height
    }
}

/// A drawn shape and the panel it belongs to.
#[derive(Clone, Debug)]
pub struct Shape {
    pub kind: String,
    pub panel: Option<String>,
    pub points: Vec<(f64, f64)>,
}

/// What the picture holds.
#[derive(Debug, Default)]
pub struct Picture {
    pub view_box: Option<Frame>,
    pub panels: BTreeMap<String, Frame>,
    pub shapes: Vec<Shape>,
    /// Text of every `<text>`, with the panel it sits in.
    pub texts: Vec<(Option<String>, String)>,
}

struct Tag {
    name: String,
    closing: bool,
    self_closing: bool,
    attributes: BTreeMap<String, String>,
}

fn tags(svg: &str) -> Vec<(Tag, String)> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let end = start + rest[start..].find('>').expect("a tag is closed");
        let inside = &rest[start + 1..end];
        let after = &rest[end + 1..];
        let text = after[..after.find('<').unwrap_or(after.len())].to_string();
        rest = after;
        if inside.starts_with('?') || inside.starts_with('!') {
            continue;
        }
        let closing = inside.starts_with('/');
        let self_closing = inside.ends_with('/');
        let body = inside.trim_start_matches('/').trim_end_matches('/');
        let name_end = body.find(char::is_whitespace).unwrap_or(body.len());
        let mut attributes = BTreeMap::new();
        let mut attrs = &body[name_end..];
        while let Some(eq) = attrs.find("=\"") {
            let key = attrs[..eq].trim().to_string();
            let value_end = eq + 2 + attrs[eq + 2..].find('"').expect("an attribute value is closed");
            attributes.insert(key, attrs[eq + 2..value_end].to_string());
            attrs = &attrs[value_end + 1..];
        }
        out.push((Tag { name: body[..name_end].to_string(), closing, self_closing, attributes }, text));
    }
    out
}

fn number(text: &str) -> f64 {
    text.trim().parse().unwrap_or_else(|_| panic!("not a number: {text:?}"))
}

fn points(text: &str) -> Vec<(f64, f64)> {
    text.split_whitespace()
        .map(|pair| {
            let (x, y) = pair.split_once(',').unwrap_or_else(|| panic!("not a point: {pair:?}"));
            (number(x), number(y))
        })
        .collect()
}

/// Reads the picture.
pub fn parse(svg: &str) -> Picture {
    let mut picture = Picture::default();
    // Open `<g>`s: the panel id when the group is a panel.
    let mut groups: Vec<Option<String>> = Vec::new();
    let panel = |groups: &[Option<String>]| groups.iter().rev().find_map(Clone::clone);
    for (tag, text) in tags(svg) {
        let attribute = |name: &str| tag.attributes.get(name).map(String::as_str);
        match (tag.name.as_str(), tag.closing) {
            ("g", true) => {
                groups.pop();
            }
            ("g", false) if !tag.self_closing => {
                let id = (attribute("class") == Some("panel"))
                    .then(|| attribute("id").expect("a panel has an id").to_string());
                groups.push(id);
            }
            ("svg", false) => {
                let values: Vec<f64> =
                    attribute("viewBox").expect("a viewBox").split_whitespace().map(number).collect();
                picture.view_box = Some(Frame { x: values[0], y: values[1], width: values[2], height: values[3] });
            }
            ("rect", false) if attribute("class") == Some("frame") => {
                let id = panel(&groups).expect("a frame sits in a panel");
                let frame = Frame {
                    x: number(attribute("x").unwrap()),
                    y: number(attribute("y").unwrap()),
                    width: number(attribute("width").unwrap()),
                    height: number(attribute("height").unwrap()),
                };
                assert!(picture.panels.insert(id.clone(), frame).is_none(), "panel {id} has one frame");
            }
            ("polyline" | "polygon", false) => picture.shapes.push(Shape {
                kind: tag.name.clone(),
                panel: panel(&groups),
                points: points(attribute("points").expect("points")),
            }),
            ("line", false) => picture.shapes.push(Shape {
                kind: "line".into(),
                panel: panel(&groups),
                points: vec![
                    (number(attribute("x1").unwrap()), number(attribute("y1").unwrap())),
                    (number(attribute("x2").unwrap()), number(attribute("y2").unwrap())),
                ],
            }),
            ("text", false) => picture.texts.push((panel(&groups), text)),
            _ => {}
        }
    }
    assert!(groups.is_empty(), "every <g> is closed");
    picture
}

impl Picture {
    /// The labels of a panel (its value axis and notes).
    pub fn panel_texts(&self, panel: &str) -> Vec<&str> {
        self.texts.iter().filter(|(p, _)| p.as_deref() == Some(panel)).map(|(_, text)| text.as_str()).collect()
    }

    /// Every text of the picture.
    pub fn all_texts(&self) -> Vec<&str> {
        self.texts.iter().map(|(_, text)| text.as_str()).collect()
    }
}

/// Checks the geometry: the equity and drawdown panels exist inside the viewBox and apart from
/// each other, each has its curve, and every point of every shape lies inside its own panel
/// (and so inside the viewBox). Returns the picture for further checks.
pub fn check(svg: &str) -> Picture {
    let picture = parse(svg);
    let view_box = picture.view_box.expect("a viewBox");
    let equity = picture.panels["equity-panel"];
    let drawdown = picture.panels["drawdown-panel"];
    for frame in [equity, drawdown] {
        for corner in [(frame.x, frame.y), (frame.x + frame.width, frame.y + frame.height)] {
            assert!(view_box.contains(corner), "panel {frame:?} leaves the viewBox {view_box:?}");
        }
    }
    assert!(!equity.overlaps(&drawdown), "the drawdown panel overlaps the equity panel");
    for shape in &picture.shapes {
        let panel = shape.panel.as_ref().unwrap_or_else(|| panic!("a {} outside any panel", shape.kind));
        let frame = picture.panels[panel];
        for point in &shape.points {
            assert!(frame.contains(*point), "a {} point {point:?} leaves panel {panel} {frame:?}", shape.kind);
            assert!(view_box.contains(*point), "a {} point {point:?} leaves the viewBox", shape.kind);
        }
    }
    let curves = |panel: &str, kind: &str| {
        picture.shapes.iter().filter(|s| s.kind == kind && s.panel.as_deref() == Some(panel)).count()
    };
    assert_eq!(curves("equity-panel", "polyline"), 1, "one equity line");
    assert_eq!(curves("drawdown-panel", "polygon"), 1, "one drawdown band");
    assert!(!picture.shapes.iter().any(|s| s.kind == "polygon" && s.panel.as_deref() == Some("equity-panel")));
    picture
}
