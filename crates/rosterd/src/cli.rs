//! The command line: global flags and the verbs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Roster: team accounts and role-based permissions for SaaS products.
#[derive(Parser, Debug)]
#[command(name = "rosterd", version, about)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags every verb understands.
#[derive(Args, Debug)]
pub(crate) struct GlobalArgs {
    /// Configuration file (default: config/rosterd.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Add a plugin directory (on top of the configured ones).
    #[arg(long = "plugin-dir", global = true, value_name = "DIR")]
    pub(crate) plugin_dirs: Vec<PathBuf>,
    /// Add a directory of TOML packs (on top of the configured ones).
    #[arg(long = "toml-dir", global = true, value_name = "DIR")]
    pub(crate) toml_dirs: Vec<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Serve the HTTP API (migrates the database first).
    Serve {
        /// Listen address (overrides server.listen).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Inspect and validate role packs.
    #[command(subcommand)]
    Packs(PacksCommand),
    /// Print the API's OpenAPI 3.1 document (what `GET /v1/openapi.json` serves).
    Openapi,
    /// Write the stored state as JSON Lines (tokens excluded), read in one transaction.
    Export {
        /// Only this account and the accounts under it (their members' profiles included).
        #[arg(long)]
        account: Option<String>,
        /// Write here instead of stdout.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Load an export into the database: every record validated, all or nothing.
    Import {
        /// The JSON Lines file `rosterd export` wrote.
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum TokenCommand {
    /// Create a token; it is printed once, alone on the last line of stdout.
    Create {
        /// A service token for this platform backend.
        #[arg(long, conflicts_with = "principal", required_unless_present = "principal")]
        service: Option<String>,
        /// A principal token for this principal.
        #[arg(long)]
        principal: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum PacksCommand {
    /// List the packs loaded from the plugin and TOML directories.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Print one pack's full manifest.
    Show {
        /// Pack id.
        pack: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ShowFormat::Json)]
        format: ShowFormat,
    },
    /// Print a pack's role x permission matrix.
    Matrix {
        /// Pack id.
        pack: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = MatrixArg::Json)]
        format: MatrixArg,
    },
    /// Validate a plugin library (.so/.dylib/.dll) or a TOML pack file.
    Validate {
        /// The file.
        path: PathBuf,
    },
    /// What a new version of a pack changes (roles, permissions, types, rules), breaking
    /// changes marked.
    Diff {
        /// The old pack: a TOML or plugin file, or a loaded pack's id.
        old: String,
        /// The new pack: a TOML or plugin file, or a loaded pack's id.
        new: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Dry run of a pack upgrade against the configured database: what the configured
    /// migrations would carry across and everything still stranded (exit 1), writing nothing.
    CheckUpgrade,
    /// Run pack test files (`*.test.yaml`): exit 1 when a case fails.
    Test {
        /// Test files, or directories searched for `*.test.yaml` (default: the current one).
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = TestFormat::Text)]
        format: TestFormat,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum TestFormat {
    /// A line per case, a diff per failure, a summary line.
    Text,
    /// JUnit XML, for CI systems.
    Junit,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum ListFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum ShowFormat {
    Json,
    Toml,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum MatrixArg {
    Csv,
    Markdown,
    Json,
}
