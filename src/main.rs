//! The `sbc` command line (shell): `sbc run --config FILE` starts the SBC, `sbc check-config
//! FILE` validates a configuration and lists every problem. This is the only place `anyhow` is
//! used.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use sbc::config::{self, Config, ConfigErrors, LogConfig, LogFormat};
use sbc::reload::LogReload;
use tracing_subscriber::{EnvFilter, reload};

/// Session Border Controller: a SIP back-to-back user agent for the network edge.
#[derive(Debug, Parser)]
#[command(name = "sbc", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load the configuration and serve until SIGINT or SIGTERM.
    Run {
        /// Configuration file (TOML); relative paths inside it start at its directory.
        #[arg(short, long, value_name = "FILE")]
        config: PathBuf,
        /// Log format; overrides `log.format` from the configuration.
        #[arg(long, value_enum, value_name = "FORMAT")]
        log_format: Option<LogFormatArg>,
    },
    /// Validate a configuration file and print every problem found, one per line.
    CheckConfig {
        /// Configuration file (TOML).
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormatArg {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl From<LogFormatArg> for LogFormat {
    fn from(arg: LogFormatArg) -> Self {
        match arg {
            LogFormatArg::Text => Self::Text,
            LogFormatArg::Json => Self::Json,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::CheckConfig { file } => check_config(&file),
        Command::Run { config, log_format } => {
            let path = config;
            let Some(config) = load_or_report(&path) else {
                return ExitCode::FAILURE;
            };
            match run(config, path, log_format.map(LogFormat::from)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("error: {error:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// `sbc check-config FILE`: a summary on stdout, or every problem (configuration and policy
/// files) on stderr.
fn check_config(file: &Path) -> ExitCode {
    let Some(config) = load_or_report(file) else {
        return ExitCode::FAILURE;
    };
    if let Err(errors) = sbc::b2bua::credentials::CredentialStore::load(&config.peers) {
        for error in errors {
            eprintln!("{}: {error}", file.display());
        }
        return ExitCode::FAILURE;
    }
    let policy = match sbc::policy::load_dir(&config.policy_dir, &sbc::policy::Known::of(&config)) {
        Ok(policy) => policy,
        Err(errors) => {
            for error in errors.iter() {
                eprintln!("{error}");
            }
            return ExitCode::FAILURE;
        }
    };
    println!(
        "config OK: {} realms, {} peers, {} routes; policy OK: {} rate limits, {} fraud rules, {} scanner patterns",
        config.realms.len(),
        config.peers.len(),
        config.routes.len(),
        policy.rate_limits.len(),
        policy.fraud.rules.len(),
        policy.scanner.patterns.len(),
    );
    ExitCode::SUCCESS
}

/// Loads and validates `file`; on failure prints every problem to stderr, one per line.
fn load_or_report(file: &Path) -> Option<Config> {
    match config::load(file) {
        Ok(config) => Some(config),
        Err(errors) => {
            report(file, &errors);
            None
        }
    }
}

fn report(file: &Path, errors: &ConfigErrors) {
    for error in errors {
        eprintln!("{}: {error}", file.display());
    }
}

/// `sbc run`: tracing, then the application in a multi-thread runtime until a signal.
fn run(mut config: Config, path: PathBuf, log_format: Option<LogFormat>) -> anyhow::Result<()> {
    if let Some(format) = log_format {
        config.log.format = format;
    }
    let log = init_tracing(&config.log)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("sbc")
        .build()
        .context("cannot start the async runtime")?;
    runtime
        .block_on(sbc::app::run(
            Arc::new(config),
            sbc::app::RunOptions {
                config_path: Some(path),
                log,
            },
        ))
        .context("the SBC stopped with an error")
}

/// Installs the global subscriber, writing to stderr: `RUST_LOG`, when set, overrides `log.level`. Returns the
/// handle that changes the filter on reload, or `None` when `RUST_LOG` fixes it.
fn init_tracing(log: &LogConfig) -> anyhow::Result<Option<LogReload>> {
    let (filter, from_env) = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => {
            let filter = EnvFilter::builder().parse(&directives).map_err(|e| {
                anyhow::anyhow!("RUST_LOG={directives:?} is not a valid log filter: {e}")
            })?;
            (filter, true)
        }
        _ => {
            let filter = EnvFilter::builder().parse(&log.level).map_err(|e| {
                anyhow::anyhow!("log.level {:?} is not a valid log filter: {e}", log.level)
            })?;
            (filter, false)
        }
    };
    let failed = |e| anyhow::anyhow!("cannot install the log subscriber: {e}");
    let reload = match log.format {
        LogFormat::Text => {
            let builder = tracing_subscriber::fmt()
                .with_writer(std::io::stderr)
                .with_env_filter(filter)
                .with_filter_reloading();
            let handle = builder.reload_handle();
            builder.try_init().map_err(failed)?;
            filter_setter(handle)
        }
        LogFormat::Json => {
            let builder = tracing_subscriber::fmt()
                .json()
                .with_writer(std::io::stderr)
                .with_env_filter(filter)
                .with_filter_reloading();
            let handle = builder.reload_handle();
            builder.try_init().map_err(failed)?;
            filter_setter(handle)
        }
    };
    Ok((!from_env).then_some(reload))
}

/// A [`LogReload`] that swaps the filter behind `handle`.
fn filter_setter<S: 'static>(handle: reload::Handle<EnvFilter, S>) -> LogReload {
    Box::new(move |level: &str| {
        let filter = EnvFilter::builder()
            .parse(level)
            .map_err(|e| e.to_string())?;
        handle.reload(filter).map_err(|e| e.to_string())
    })
}
