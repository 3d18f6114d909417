//! The binary refuses bad settings at start-up, naming the key.

use std::process::Command;

fn run(args: &[&str], env: &[(&str, &str)]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_market-feed"))
        .args(args)
        .env("APP_CONFIG_DIR", "/nonexistent")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(!output.status.success(), "start-up must fail");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn the_binary_refuses_a_bad_setting_or_speed() {
    let stderr = run(&[], &[("APP_NATS__PREFIX", "not.a.token")]);
    assert!(stderr.contains("nats.prefix") && stderr.contains("APP_NATS__PREFIX"), "{stderr}");
    let stderr = run(&["--speed", "0"], &[]);
    assert!(stderr.contains("feed.speed"), "{stderr}");
    let stderr = run(&[], &[("APP_FEED__DATA_DIR", "/nonexistent"), ("APP_NATS__URL", "nats://127.0.0.1:1")]);
    assert!(stderr.contains("/nonexistent/BTC_USDT-1m.csv"), "{stderr}");
}
