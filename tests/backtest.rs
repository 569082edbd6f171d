//! `greatgame backtest` end to end: the real binary on scenarios/backcast_2015.toml.

use std::path::Path;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_greatgame"))
}

fn rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).expect("csv");
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn run_and_check(observed: &Path, out: &Path) -> usize {
    let status = bin()
        .args(["backtest", "scenarios/backcast_2015.toml", "--observed"])
        .arg(observed)
        .args([
            "--replicates",
            "4",
            "--seed",
            "1",
            "--threads",
            "2",
            "--quiet",
            "--no-charts",
            "--out",
        ])
        .arg(out)
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(stdout.contains("verdict:"), "{stdout}");
    let dir = out.join("backtest-backcast_2015");
    let (header, matched) = rows(&dir.join("backtest.csv"));
    assert_eq!(
        header[..9],
        [
            "year",
            "host",
            "partner",
            "metric",
            "basis",
            "observed",
            "simulated_mean",
            "simulated_p05",
            "simulated_p95"
        ]
    );
    for row in &matched {
        let p05: f64 = row[7].parse().unwrap();
        let mean: f64 = row[6].parse().unwrap();
        let p95: f64 = row[8].parse().unwrap();
        assert!(p05 <= mean + 1e-9 && mean <= p95 + 1e-9, "{row:?}");
    }
    let (header, skipped) = rows(&dir.join("backtest_skipped.csv"));
    assert_eq!(header.last().unwrap(), "reason");
    assert!(skipped.iter().all(|r| !r.last().unwrap().is_empty()));
    let (_, observed_rows) = rows(observed);
    assert_eq!(matched.len() + skipped.len(), observed_rows.len());
    assert!(dir.join("skill.csv").exists());
    matched.len()
}

#[test]
fn small_observed_file_lands_in_exactly_one_table() {
    let tmp = tempfile::tempdir().unwrap();
    let observed = tmp.path().join("observed.csv");
    std::fs::write(
        &observed,
        "year,host,partner,metric,value,unit,basis,note,source\n\
         2016,C5,CHN,trade_turnover_usd_bn,30.0,USD bn,test,,x\n\
         2018,C5,CHN,trade_turnover_usd_bn,40.0,USD bn,test,,x\n\
         2020,C5,CHN,trade_turnover_usd_bn,45.0,USD bn,test,,x\n\
         2019,KGZ,WORLD,remittances_pct_gdp,28.0,% of GDP,test,,x\n\
         2014,KGZ,WORLD,remittances_pct_gdp,30.0,% of GDP,test,,x\n\
         2019,KAZ,WORLD,exports_to_partner_usd_bn,50.0,USD bn,test,,x\n\
         2021,C5,EU,trade_share_pct,23.6,%,test,,x\n",
    )
    .unwrap();
    assert_eq!(run_and_check(&observed, &tmp.path().join("out")), 4);
}

#[test]
fn bad_observed_file_names_the_line_and_exits_3() {
    let tmp = tempfile::tempdir().unwrap();
    let observed = tmp.path().join("bad.csv");
    std::fs::write(
        &observed,
        "year,host,partner,metric,value,unit,basis,note,source\n2016,C5,CHN,trade_turnover_usd_bn,lots,USD bn,t,,x\n",
    )
    .unwrap();
    let output = bin()
        .args(["backtest", "scenarios/backcast_2015.toml", "--observed"])
        .arg(&observed)
        .args(["-n", "2", "--quiet", "--out"])
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.csv") && stderr.contains("line 2"), "{stderr}");
}

#[test]
fn real_observed_file_if_present() {
    let real = Path::new("../shared/data/observed.csv");
    if !real.exists() {
        eprintln!("skipped: {} not found", real.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    assert!(run_and_check(real, tmp.path()) > 0);
}
