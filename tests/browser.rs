//! The reports in a real browser: headless Chromium (Debian's `chromium` package), driven
//! through WebDriver by ChromeDriver (Debian's `chromium-driver`), opens the `report.html`
//! of a run and of a comparison, offline. Each page must log no console error (console
//! errors and uncaught exceptions are both logged at level SEVERE), load nothing from
//! outside, draw every panel of every figure on a non-empty canvas, show a value with its
//! band and quarter in the legend when the mouse hovers over a chart, and hide a series in
//! every panel of a figure when its legend entry is clicked. Screenshots are kept as test
//! artefacts in `target/tmp/browser/`.
//!
//! WebDriver is plain JSON over HTTP on the loopback interface; the few requests it takes
//! are written here with the standard library, so the test needs no client crate.
//!
//! Chromium and ChromeDriver are found at `$GREATGAME_CHROMIUM` and `$GREATGAME_CHROMEDRIVER`,
//! else `/usr/bin/chromium` and `/usr/bin/chromedriver`, else on the PATH. Without them the
//! test prints why and passes, unless `GREATGAME_REQUIRE_BROWSER=1` (as `.ci/run` sets once
//! it has installed them), when it fails. By hand:
//!
//! ```sh
//! apt-get install chromium chromium-driver
//! GREATGAME_REQUIRE_BROWSER=1 cargo test --test browser
//! ```
//!
//! The screenshots in the README and docs/reports.md:
//! `cargo test --test browser -- --ignored readme_screenshot`
//! (writes `docs/images/run-report.png` and `run-report-chart.png`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

mod common;

use common::*;

/// A program from `$var`, else `/usr/bin/<names[0]>`, else the PATH; or why there is none.
fn program(var: &str, names: &[&str], package: &str) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(var) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{var}={} is not a file", path.display()))
        };
    }
    let mut candidates = vec![Path::new("/usr/bin").join(names[0])];
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            candidates.extend(names.iter().map(|n| dir.join(n)));
        }
    }
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| format!("no {} found (apt-get install {package}, or set {var})", names[0]))
}

/// Chromium and ChromeDriver, or `None` after saying why the test is skipped (a failure
/// when the browser test is required).
fn browser_or_skip(test: &str) -> Option<(PathBuf, PathBuf)> {
    let found = program("GREATGAME_CHROMIUM", &["chromium", "chromium-browser"], "chromium").and_then(|chromium| {
        program("GREATGAME_CHROMEDRIVER", &["chromedriver"], "chromium-driver").map(|driver| (chromium, driver))
    });
    match found {
        Ok(found) => Some(found),
        Err(why) => {
            let required = std::env::var("GREATGAME_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
            assert!(!required, "{test}: GREATGAME_REQUIRE_BROWSER=1 but {why}");
            eprintln!(
                "skipped {test}: {why}; run `GREATGAME_REQUIRE_BROWSER=1 cargo test --test browser` where Chromium and ChromeDriver are installed"
            );
            None
        }
    }
}

/// How long the driver may take to answer a request.
const LONG: Duration = Duration::from_secs(120);

/// One HTTP/1.1 request to the driver on the loopback interface; the JSON it answers.
fn http(port: u16, method: &str, path: &str, body: Option<&Value>, timeout: Duration) -> Result<Value, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    // The driver may keep the connection open: read the header, then Content-Length bytes
    // (or chunks up to the last one, or to the end when it says neither).
    let mut response = Vec::new();
    let mut buffer = [0u8; 65536];
    let (head, payload) = loop {
        let n = stream
            .read(&mut buffer)
            .map_err(|e| format!("{e} after {:?}", String::from_utf8_lossy(&response)))?;
        response.extend_from_slice(&buffer[..n]);
        if let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
            let body = &response[end + 4..];
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            let chunked = head.contains("chunked");
            let complete = match length {
                Some(length) => body.len() >= length,
                None if chunked => body.ends_with(b"0\r\n\r\n"),
                None => n == 0,
            };
            if complete {
                let text = String::from_utf8_lossy(&body[..length.unwrap_or(body.len())]).into_owned();
                break (head, if chunked { dechunk(&text) } else { text });
            }
        }
        if n == 0 {
            return Err(format!(
                "the connection closed after {:?}",
                String::from_utf8_lossy(&response)
            ));
        }
    };
    let payload = payload.as_str();
    let value: Value = serde_json::from_str(payload).map_err(|e| format!("{e}: {payload}"))?;
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if !status.starts_with('2') {
        return Err(format!("{method} {path}: HTTP {status}: {}", value["value"]));
    }
    Ok(value["value"].clone())
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// ChromeDriver and one headless Chromium session; both end when this is dropped.
struct Session {
    driver: Child,
    port: u16,
    id: String,
    _profile: tempfile::TempDir,
}

impl Session {
    fn start(chromium: &Path, chromedriver: &Path) -> Session {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ChromeDriver starts");
        let profile = tempfile::tempdir().expect("a profile folder");
        let mut session = Session {
            driver,
            port,
            id: String::new(),
            _profile: profile,
        };
        let started = Instant::now();
        loop {
            // A short wait: a request sent while the driver starts may go unanswered.
            match http(port, "GET", "/status", None, Duration::from_secs(1)) {
                Ok(status) if status["ready"] == json!(true) => break,
                answer => assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "ChromeDriver did not start on port {port}: {answer:?}"
                ),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile_arg = format!("--user-data-dir={}", session._profile.path().display());
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.display().to_string(),
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                         "--no-first-run", "--hide-scrollbars", "--window-size=1300,1000", profile_arg],
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        }}});
        let created = http(port, "POST", "/session", Some(&capabilities), LONG).expect("a browser session");
        session.id = created["sessionId"].as_str().expect("a session id").to_string();
        session
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = format!("/session/{}{path}", self.id);
        http(self.port, method, &path, body.as_ref(), LONG).unwrap_or_else(|e| panic!("{e}"))
    }

    fn open(&self, page: &Path) {
        let url = format!(
            "file://{}",
            std::fs::canonicalize(page).expect("the page exists").display()
        );
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    /// Runs `body` (a function body that returns a value) in the page.
    fn eval(&self, body: &str) -> Value {
        self.call("POST", "/execute/sync", Some(json!({ "script": body, "args": [] })))
    }

    fn hover(&self, x: f64, y: f64) {
        self.call(
            "POST",
            "/actions",
            Some(json!({ "actions": [{
                "type": "pointer", "id": "mouse", "parameters": { "pointerType": "mouse" },
                "actions": [{ "type": "pointerMove", "duration": 0, "origin": "viewport",
                              "x": x.round() as i64, "y": y.round() as i64 }],
            }]})),
        );
    }

    /// Browser log entries at level SEVERE since the last call: console errors and
    /// uncaught exceptions.
    fn errors(&self) -> Vec<String> {
        let entries = self.call("POST", "/se/log", Some(json!({ "type": "browser" })));
        entries
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| e["level"] == json!("SEVERE"))
            .map(|e| e["message"].as_str().unwrap_or("").to_string())
            .collect()
    }

    fn screenshot(&self, path: &Path) {
        let data = self.call("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().expect("base64 PNG"))
            .expect("a PNG");
        std::fs::write(path, png).expect("keep the screenshot");
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if !self.id.is_empty() {
            let _ = http(self.port, "DELETE", &format!("/session/{}", self.id), None, LONG);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Where screenshots are kept.
fn artefacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&dir).expect("artefact folder");
    dir
}

/// Checks a report in the browser and keeps a screenshot; returns the number of figures.
fn check_report(session: &Session, page: &Path, name: &str) -> usize {
    session.open(page);
    let state = session.eval(
        r#"const figures = [...document.querySelectorAll('.gg-figure')];
        return {
          figures: figures.length,
          panels: figures.map(f => JSON.parse(f.querySelector('script').textContent).panels.length),
          drawn: figures.map(f => Number(f.getAttribute('data-drawn') || 0)),
          errors: figures.map(f => f.getAttribute('data-error')).filter(e => e),
          canvases: [...document.querySelectorAll('.gg-figure canvas')].map(c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let painted = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) painted++;
            return { w: c.width, h: c.height, painted };
          }),
          external: [...document.querySelectorAll('script[src], link[href], img[src], iframe')].map(e => e.outerHTML.slice(0, 80)),
        };"#,
    );
    let figures = state["figures"].as_u64().unwrap_or(0) as usize;
    assert!(figures > 0, "{name}: no figure in the page: {state}");
    assert_eq!(
        state["panels"], state["drawn"],
        "{name}: every panel of every figure is drawn: {state}"
    );
    assert_eq!(state["errors"], json!([]), "{name}: {state}");
    assert_eq!(
        state["external"],
        json!([]),
        "{name}: the page loads nothing from outside"
    );
    let canvases = state["canvases"].as_array().cloned().unwrap_or_default();
    let panels: u64 = state["panels"]
        .as_array()
        .map_or(0, |p| p.iter().filter_map(Value::as_u64).sum());
    assert_eq!(canvases.len() as u64, panels, "{name}: one canvas per panel");
    for (i, canvas) in canvases.iter().enumerate() {
        let painted = canvas["painted"].as_u64().unwrap_or(0);
        let area = canvas["w"].as_u64().unwrap_or(0) * canvas["h"].as_u64().unwrap_or(0);
        assert!(
            area > 0 && painted > area / 200,
            "{name}: canvas {i} is empty: {canvas}"
        );
    }

    // Hover over the middle of the first chart: its legend shows a value with its band,
    // and the quarter.
    let legend = "const f = document.querySelector('.gg-figure'); \
                  const v = i => f.querySelector('.u-legend .u-series:nth-child(' + i + ') .u-value').textContent;";
    let before = session.eval(&format!("{legend} return v(2);"));
    let rect = session.eval(
        "const f = document.querySelector('.gg-figure'); f.scrollIntoView(); \
         const r = f.querySelector('.u-over').getBoundingClientRect(); \
         return { x: r.left + r.width / 2, y: r.top + r.height / 2 };",
    );
    session.hover(
        rect["x"].as_f64().expect("a chart on screen"),
        rect["y"].as_f64().expect("a chart on screen"),
    );
    std::thread::sleep(Duration::from_millis(300));
    let shown = session.eval(&format!("{legend} return [v(1), v(2)];"));
    let quarter = shown[0].as_str().unwrap_or("");
    let value = shown[1].as_str().unwrap_or("");
    assert!(
        value.chars().any(|c| c.is_ascii_digit()) && value.contains('[') && shown[1] != before,
        "{name}: hovering shows no value with its band (before {before}, after {shown})"
    );
    assert!(
        quarter.len() == 6 && quarter.contains('Q'),
        "{name}: the hovered date is a quarter: {shown}"
    );
    session.screenshot(&artefacts().join(format!("{name}.png")));

    // A click on a legend entry hides that series in every panel of the figure.
    let hidden = session.eval(
        "const f = document.querySelector('.gg-figure'); \
         f.querySelector('.u-legend .u-series:nth-child(2) > th').click(); \
         const off = [...f.querySelectorAll('.u-legend')].map(l => l.querySelector('.u-series:nth-child(2)').classList.contains('u-off')); \
         f.querySelector('.u-legend .u-series:nth-child(2) > th').click(); \
         return off;",
    );
    let hidden = hidden.as_array().cloned().unwrap_or_default();
    assert!(
        !hidden.is_empty() && hidden.iter().all(|h| h == &Value::Bool(true)),
        "{name}: a click on a legend entry hides the series in every panel: {hidden:?}"
    );
    let errors = session.errors();
    assert!(errors.is_empty(), "{name}: the page logged errors: {errors:?}");
    figures
}

#[test]
fn run_and_compare_reports_work_in_a_browser() {
    let Some((chromium, chromedriver)) = browser_or_skip("run_and_compare_reports_work_in_a_browser") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary folder");
    for (parent, name) in [("baseline", "base"), ("us_minerals_push", "push")] {
        let path = variant(dir.path(), parent, name, 12, Some(6), "");
        ok(
            dir.path(),
            &["run", path_str(&path), "--out", "out", "--quiet", "--no-charts"],
        );
    }
    ok(
        dir.path(),
        &[
            "compare",
            "out/base",
            "out/push",
            "--out",
            "out",
            "--quiet",
            "--no-charts",
            "--metrics",
            "alignment,route_share",
        ],
    );
    let session = Session::start(&chromium, &chromedriver);
    // A page that fails must fail the check: an error thrown by a script is caught.
    let broken = dir.path().join("broken.html");
    std::fs::write(
        &broken,
        "<!DOCTYPE html><html><body><script>throw new Error('deliberate');</script></body></html>",
    )
    .expect("write");
    session.open(&broken);
    let errors = session.errors();
    assert!(
        errors.iter().any(|e| e.contains("deliberate")),
        "the log shows page errors, so a clean log means something: {errors:?}"
    );

    let run_figures = check_report(&session, &dir.path().join("out/base/report.html"), "run-report");
    assert!(run_figures >= 6, "the run report shows every chart ({run_figures})");
    check_report(
        &session,
        &dir.path().join("out/compare-base-vs-push/report.html"),
        "compare-report",
    );
}

/// Writes the screenshots of a run report in the README and docs/reports.md: the top of
/// the page, and the alignment chart with the cursor on it. The baseline, 200 replicates.
#[test]
#[ignore = "writes docs/images/run-report*.png; run by hand (see the module documentation)"]
fn readme_screenshot() {
    let (chromium, chromedriver) = browser_or_skip("readme_screenshot").expect("Chromium and ChromeDriver are needed");
    let dir = tempfile::tempdir().expect("temporary folder");
    ok(
        dir.path(),
        &[
            "run",
            path_str(&shipped("baseline")),
            "--out",
            "out",
            "--quiet",
            "--no-charts",
        ],
    );
    let session = Session::start(&chromium, &chromedriver);
    session.open(&dir.path().join("out/baseline/report.html"));
    let images = repo().join("docs").join("images");
    session.screenshot(&images.join("run-report.png"));
    let rect = session.eval(
        "const f = document.querySelector('#chart-alignment'); f.scrollIntoView(); \
         const r = f.querySelector('.u-over').getBoundingClientRect(); \
         return { x: r.left + r.width * 0.7, y: r.top + r.height * 0.4 };",
    );
    session.hover(
        rect["x"].as_f64().expect("the chart is on screen"),
        rect["y"].as_f64().expect("the chart is on screen"),
    );
    std::thread::sleep(Duration::from_millis(300));
    session.screenshot(&images.join("run-report-chart.png"));
    eprintln!("wrote docs/images/run-report.png and run-report-chart.png");
}
