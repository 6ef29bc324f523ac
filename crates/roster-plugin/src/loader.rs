//! Loading packs: cdylib plugins from configured directories (optionally sha256-pinned)
//! and TOML packs, both through the same strict schema and validation. Every failure is a
//! [`PluginError`] naming the file; a failing pack never stops the others from loading.
//! Libraries are never unloaded: unloading Rust dylibs is unsound in practice.
//!
//! A plugin file is read once; its sha256 is taken of those bytes, and it is those bytes
//! that are loaded (from a sealed in-memory file on Linux, a private copy elsewhere), never
//! the path again: swapping or rewriting the file after the check changes nothing.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use libloading::Library;
use roster_core::validate::ValidationErrors;
use roster_core::{Pack, PackManifest, SCHEMA_VERSION};
use sha2::{Digest, Sha256};

use crate::abi::{self, DescriptorHeader, EntryFn, PackDescriptor};

/// Where packs come from and how plugins are pinned.
#[derive(Clone, Debug, Default)]
pub struct LoaderConfig {
    /// Directories plugins may be opened from; nothing outside them is ever opened.
    pub plugin_dirs: Vec<PathBuf>,
    /// Directories of `*.toml` packs.
    pub toml_dirs: Vec<PathBuf>,
    /// Expected sha256 (hex) per plugin file name, e.g. `libroster_pack_studio.so`.
    pub pins: BTreeMap<String, String>,
}

/// Where a loaded pack came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PackSource {
    /// A cdylib plugin.
    Plugin {
        /// The file.
        path: PathBuf,
        /// Its sha256, hex.
        sha256: String,
    },
    /// A TOML file.
    Toml {
        /// The file.
        path: PathBuf,
    },
}

impl PackSource {
    /// `plugin` or `toml`.
    pub fn kind(&self) -> &'static str {
        match self {
            PackSource::Plugin { .. } => "plugin",
            PackSource::Toml { .. } => "toml",
        }
    }

    /// The file the pack came from.
    pub fn path(&self) -> &Path {
        match self {
            PackSource::Plugin { path, .. } | PackSource::Toml { path } => path,
        }
    }
}

/// A pack that loaded and validated.
#[derive(Clone, Debug)]
pub struct LoadedPack {
    /// The compiled pack.
    pub pack: Arc<Pack>,
    /// Where it came from.
    pub source: PackSource,
}

/// What went wrong with one pack file.
#[derive(Debug, thiserror::Error)]
pub enum PluginErrorKind {
    /// The file does not exist.
    #[error("file not found")]
    NotFound,
    /// The file could not be read.
    #[error("cannot read the file: {0}")]
    Io(String),
    /// The file is not inside a configured plugin directory.
    #[error("not inside a configured plugin directory ({dirs})")]
    OutsidePluginDirs {
        /// The configured directories.
        dirs: String,
    },
    /// The file's sha256 does not match its pin.
    #[error("sha256 {actual} does not match the pinned {expected}")]
    PinMismatch {
        /// Pinned hash.
        expected: String,
        /// Actual hash.
        actual: String,
    },
    /// The dynamic loader refused the file.
    #[error("not a loadable library: {0}")]
    NotALibrary(String),
    /// The entry symbol is missing.
    #[error("no entry symbol `{symbol}` (is it a Roster pack plugin for ABI v{version}?)", symbol = entry_symbol_name(), version = abi::ABI_VERSION)]
    MissingEntry,
    /// The entry returned null.
    #[error("the entry symbol returned a null descriptor")]
    NullDescriptor,
    /// The descriptor does not start with the magic tag.
    #[error("the descriptor's magic tag is wrong (found {found:?})")]
    BadMagic {
        /// The bytes found.
        found: [u8; 8],
    },
    /// The descriptor is for another ABI version.
    #[error("ABI version {found} is not supported (this loader speaks {expected})")]
    AbiMismatch {
        /// Version in the descriptor.
        found: u32,
        /// Version the loader speaks.
        expected: u32,
    },
    /// The descriptor is smaller than this ABI's.
    #[error("descriptor size {found} is smaller than the {expected} bytes of ABI v{version}", version = abi::ABI_VERSION)]
    DescriptorTooSmall {
        /// Size in the descriptor.
        found: u32,
        /// Size the loader needs.
        expected: u32,
    },
    /// The plugin was built against an incompatible core.
    #[error("built against roster-core {built}, which is not compatible with {running}")]
    IncompatibleCore {
        /// Plugin's core version.
        built: String,
        /// This core's version.
        running: String,
    },
    /// The manifest builder panicked (caught inside the plugin).
    #[error("the manifest builder panicked: {0}")]
    Panicked(String),
    /// The manifest builder returned an error.
    #[error("the manifest builder failed: {0}")]
    BuilderFailed(String),
    /// The manifest is not JSON / TOML at all.
    #[error("the manifest is not valid {format}: {message}")]
    InvalidSyntax {
        /// `JSON` or `TOML`.
        format: &'static str,
        /// Parser message.
        message: String,
    },
    /// The manifest is for another schema version.
    #[error("manifest schema_version {found} is not supported (this core reads {supported})")]
    SchemaVersion {
        /// Version in the manifest (0 when missing).
        found: u64,
        /// Version this core reads.
        supported: u32,
    },
    /// The manifest does not match the schema (unknown field, wrong type, …).
    #[error("the manifest does not match the schema: {0}")]
    Schema(String),
    /// The manifest parsed but breaks the pack rules.
    #[error("the pack is invalid: {0}")]
    Invalid(ValidationErrors),
    /// Another file already provided this pack id.
    #[error("pack `{id}` is already loaded from {other}")]
    DuplicatePack {
        /// Pack id.
        id: String,
        /// The other file.
        other: String,
    },
}

fn entry_symbol_name() -> &'static str {
    std::str::from_utf8(&abi::ENTRY_SYMBOL[..abi::ENTRY_SYMBOL.len() - 1]).unwrap_or("roster_pack_entry")
}

/// A pack file that failed to load, and why.
#[derive(Debug, thiserror::Error)]
pub struct PluginError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    #[source]
    pub kind: PluginErrorKind,
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.kind)
    }
}

/// A plugin file's bytes, read once and checked against its pin: loading them loads
/// exactly what was hashed.
#[derive(Debug)]
pub struct VerifiedPlugin {
    /// The file as asked for (errors name it).
    path: PathBuf,
    /// The file inside a plugin directory.
    canonical: PathBuf,
    /// The file's content when it was read.
    bytes: Vec<u8>,
    /// sha256 of `bytes`, hex.
    sha256: String,
}

impl VerifiedPlugin {
    /// sha256 of the bytes that will be loaded, hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

/// Opens plugins and TOML packs according to a [`LoaderConfig`].
#[derive(Debug)]
pub struct PackLoader {
    config: LoaderConfig,
    allowed: Vec<PathBuf>,
}

/// File extensions of dynamic libraries on the platforms Roster runs on.
const LIBRARY_EXTENSIONS: &[&str] = &["so", "dylib", "dll"];

impl PackLoader {
    /// A loader for these directories and pins.
    pub fn new(config: LoaderConfig) -> Self {
        let allowed = config.plugin_dirs.iter().filter_map(|d| d.canonicalize().ok()).collect();
        PackLoader { config, allowed }
    }

    /// Loads every plugin in the plugin directories and every `*.toml` in the TOML
    /// directories (sorted by file name). Failures are returned beside the successes.
    pub fn load_all(&self) -> (Vec<LoadedPack>, Vec<PluginError>) {
        let mut loaded: Vec<LoadedPack> = Vec::new();
        let mut errors = Vec::new();
        let mut files: Vec<(PathBuf, bool)> = Vec::new();
        for (dirs, is_plugin) in [(&self.config.plugin_dirs, true), (&self.config.toml_dirs, false)] {
            for dir in dirs {
                match list_dir(dir, if is_plugin { LIBRARY_EXTENSIONS } else { &["toml"] }) {
                    Ok(found) => files.extend(found.into_iter().map(|f| (f, is_plugin))),
                    Err(kind) => errors.push(PluginError { path: dir.clone(), kind }),
                }
            }
        }
        for (path, is_plugin) in files {
            let result = if is_plugin { self.load_plugin(&path) } else { self.load_toml(&path) };
            match result {
                Ok(pack) => match loaded.iter().find(|p| p.pack.id() == pack.pack.id()) {
                    Some(other) => errors.push(PluginError {
                        path,
                        kind: PluginErrorKind::DuplicatePack {
                            id: pack.pack.id().to_owned(),
                            other: other.source.path().display().to_string(),
                        },
                    }),
                    None => loaded.push(pack),
                },
                Err(error) => errors.push(error),
            }
        }
        (loaded, errors)
    }

    /// Loads one plugin file.
    pub fn load_plugin(&self, path: &Path) -> Result<LoadedPack, PluginError> {
        let span = tracing::info_span!("roster.plugin.load", "roster.plugin.path" = %path.display(), "roster.pack" = tracing::field::Empty);
        let _entered = span.enter();
        let loaded = self.open_plugin(path);
        if let Ok(pack) = &loaded {
            span.record("roster.pack", pack.pack.id());
        }
        loaded
    }

    fn open_plugin(&self, path: &Path) -> Result<LoadedPack, PluginError> {
        let verified = self.verify_plugin(path)?;
        self.load_verified(verified)
    }

    /// Reads a plugin file once, inside the plugin directories, and checks its pin. What
    /// [`load_verified`](Self::load_verified) loads is these bytes, whatever happens to the
    /// file afterwards.
    pub fn verify_plugin(&self, path: &Path) -> Result<VerifiedPlugin, PluginError> {
        let fail = |kind| PluginError { path: path.to_owned(), kind };
        let canonical = path.canonicalize().map_err(|e| fail(io_kind(&e)))?;
        if !self.allowed.iter().any(|dir| canonical.starts_with(dir)) {
            let dirs = self.config.plugin_dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ");
            return Err(fail(PluginErrorKind::OutsidePluginDirs { dirs }));
        }
        let mut bytes = Vec::new();
        std::fs::File::open(&canonical)
            .and_then(|mut file| file.read_to_end(&mut bytes))
            .map_err(|e| fail(io_kind(&e)))?;
        let sha256 = format!("{:x}", Sha256::digest(&bytes));
        let file_name = canonical.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if let Some(expected) = self.config.pins.get(&file_name)
            && !expected.eq_ignore_ascii_case(&sha256)
        {
            return Err(fail(PluginErrorKind::PinMismatch { expected: expected.clone(), actual: sha256 }));
        }
        Ok(VerifiedPlugin { path: path.to_owned(), canonical, bytes, sha256 })
    }

    /// Loads the bytes [`verify_plugin`](Self::verify_plugin) read and hashed (not the file
    /// they came from), checks the descriptor and validates the manifest.
    pub fn load_verified(&self, plugin: VerifiedPlugin) -> Result<LoadedPack, PluginError> {
        let VerifiedPlugin { path, canonical, bytes, sha256 } = plugin;
        let fail = |kind| PluginError { path: path.clone(), kind };
        let library = open_library_bytes(&bytes).map_err(fail)?;
        let json = read_manifest_json(library).map_err(fail)?;
        let manifest = parse_json_manifest(&json).map_err(fail)?;
        let pack = roster_core::validate(manifest).map_err(|e| fail(PluginErrorKind::Invalid(e)))?;
        Ok(LoadedPack { pack: Arc::new(pack), source: PackSource::Plugin { path: canonical, sha256 } })
    }

    /// Loads one TOML pack file.
    pub fn load_toml(&self, path: &Path) -> Result<LoadedPack, PluginError> {
        let _span = tracing::info_span!("roster.pack.load_toml", "roster.pack.path" = %path.display()).entered();
        let fail = |kind| PluginError { path: path.to_owned(), kind };
        let text = std::fs::read_to_string(path).map_err(|e| fail(io_kind(&e)))?;
        let manifest = parse_toml_manifest(&text).map_err(fail)?;
        let pack = roster_core::validate(manifest).map_err(|e| fail(PluginErrorKind::Invalid(e)))?;
        Ok(LoadedPack { pack: Arc::new(pack), source: PackSource::Toml { path: path.to_owned() } })
    }
}

fn io_kind(error: &std::io::Error) -> PluginErrorKind {
    if error.kind() == std::io::ErrorKind::NotFound {
        PluginErrorKind::NotFound
    } else {
        PluginErrorKind::Io(error.to_string())
    }
}

fn list_dir(dir: &Path, extensions: &[&str]) -> Result<Vec<PathBuf>, PluginErrorKind> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_kind(&e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().and_then(|e| e.to_str()).is_some_and(|e| extensions.contains(&e)))
        .collect();
    files.sort();
    Ok(files)
}

/// Opens a library from verified bytes, for good. `dlopen` takes a path, so the bytes go
/// to a file nobody else can change: on Linux an anonymous memfd, sealed against writes,
/// opened through `/proc/self/fd/N` (no directory to swap, works when /tmp is noexec); on
/// other systems a copy in a fresh directory only this process's user can write.
#[cfg(target_os = "linux")]
fn open_library_bytes(bytes: &[u8]) -> Result<&'static Library, PluginErrorKind> {
    use rustix::fs::{MemfdFlags, SealFlags};
    let io = |e: std::io::Error| PluginErrorKind::Io(e.to_string());
    let fd = rustix::fs::memfd_create("roster-plugin", MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)
        .map_err(|e| io(e.into()))?;
    let mut file = std::fs::File::from(fd);
    std::io::Write::write_all(&mut file, bytes).map_err(io)?;
    rustix::fs::fcntl_add_seals(&file, SealFlags::WRITE | SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL)
        .map_err(|e| io(e.into()))?;
    let path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&file));
    let library = dlopen(Path::new(&path))?;
    // The descriptor stays open for good, like the library: the dynamic loader knows the
    // library by this path, and a later plugin given the same descriptor number would
    // otherwise be answered with this library instead of being loaded.
    std::mem::forget(file);
    Ok(library)
}

/// See the Linux version: a private copy, removed once loaded where the system allows it.
#[cfg(not(target_os = "linux"))]
fn open_library_bytes(bytes: &[u8]) -> Result<&'static Library, PluginErrorKind> {
    let io = |e: std::io::Error| PluginErrorKind::Io(e.to_string());
    // `tempdir` creates the directory with mode 0700 on Unix, so no one else can swap or
    // rewrite the copy between writing and loading it.
    let dir = tempfile::Builder::new().prefix("roster-plugin-").tempdir().map_err(io)?;
    let copy = dir.path().join(format!("plugin{}", std::env::consts::DLL_SUFFIX));
    std::fs::write(&copy, bytes).map_err(io)?;
    let library = dlopen(&copy)?;
    // Unix keeps the mapping after unlinking; Windows refuses to delete a loaded library,
    // and the copy then stays in the temporary directory.
    let _ = dir.close();
    Ok(library)
}

/// `dlopen`, never unloaded.
fn dlopen(path: &Path) -> Result<&'static Library, PluginErrorKind> {
    // SAFETY: opening a library runs its initialisers. The bytes come from a file inside a
    // directory the operator configured for plugins and, when pinned, are exactly the bytes
    // whose hash the operator approved (the file is read once); that trust is the premise
    // of loading plugins.
    let library = unsafe { Library::new(path) }.map_err(|e| PluginErrorKind::NotALibrary(e.to_string()))?;
    // Never unload: Rust cdylibs may leave thread-locals and statics behind.
    Ok(Box::leak(Box::new(library)))
}

/// Checks a loaded library's descriptor and returns the manifest text.
fn read_manifest_json(library: &'static Library) -> Result<String, PluginErrorKind> {
    // SAFETY: `EntryFn` is the documented signature of the ABI v1 entry symbol; a plugin
    // exporting this name promises it (the descriptor checks below catch the common lies).
    let entry = unsafe { library.get::<EntryFn>(abi::ENTRY_SYMBOL) }.map_err(|_| PluginErrorKind::MissingEntry)?;
    // SAFETY: calling the entry takes no arguments and only returns a pointer.
    let descriptor = unsafe { entry() };
    if descriptor.is_null() {
        return Err(PluginErrorKind::NullDescriptor);
    }
    // SAFETY: every descriptor version starts with this header at the same offsets, and the
    // pointer is non-null and points into the library, which stays loaded for ever.
    let header: DescriptorHeader = unsafe { std::ptr::read(descriptor.cast::<DescriptorHeader>()) };
    if header.magic != abi::MAGIC {
        return Err(PluginErrorKind::BadMagic { found: header.magic });
    }
    if header.abi_version != abi::ABI_VERSION {
        return Err(PluginErrorKind::AbiMismatch { found: header.abi_version, expected: abi::ABI_VERSION });
    }
    let needed = size_of::<PackDescriptor>() as u32;
    if header.size < needed {
        return Err(PluginErrorKind::DescriptorTooSmall { found: header.size, expected: needed });
    }
    // SAFETY: magic, version and size say the pointee is at least a v1 `PackDescriptor`,
    // a static in a library that is never unloaded.
    let descriptor: &'static PackDescriptor = unsafe { &*descriptor };
    let built = descriptor.core_version();
    if !core_compatible(&built, roster_core::CORE_VERSION) {
        return Err(PluginErrorKind::IncompatibleCore { built, running: roster_core::CORE_VERSION.to_owned() });
    }
    let output = (descriptor.write_manifest)();
    let text = if output.buffer.ptr.is_null() {
        String::new()
    } else {
        // SAFETY: the plugin returned ptr/len of a live allocation it owns until we hand it
        // back to `free_buffer` below; we copy the bytes out first.
        let bytes = unsafe { std::slice::from_raw_parts(output.buffer.ptr, output.buffer.len) };
        String::from_utf8_lossy(bytes).into_owned()
    };
    (descriptor.free_buffer)(output.buffer);
    match output.status {
        abi::STATUS_OK => Ok(text),
        abi::STATUS_PANIC => Err(PluginErrorKind::Panicked(text)),
        abi::STATUS_ERROR => Err(PluginErrorKind::BuilderFailed(text)),
        other => Err(PluginErrorKind::BuilderFailed(format!("unknown status {other}: {text}"))),
    }
}

/// Semver compatibility: same major, and for 0.x the same minor.
fn core_compatible(built: &str, running: &str) -> bool {
    let parts = |v: &str| -> Option<(u64, u64)> {
        let mut it = v.split('.');
        Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
    };
    match (parts(built), parts(running)) {
        (Some((0, b)), Some((0, r))) => b == r,
        (Some((b, _)), Some((r, _))) => b == r,
        _ => false,
    }
}

fn check_schema_version(found: Option<u64>) -> Result<(), PluginErrorKind> {
    match found {
        Some(v) if v == u64::from(SCHEMA_VERSION) => Ok(()),
        other => Err(PluginErrorKind::SchemaVersion { found: other.unwrap_or(0), supported: SCHEMA_VERSION }),
    }
}

/// Parses manifest JSON strictly, telling syntax, schema version and schema errors apart.
pub fn parse_json_manifest(json: &str) -> Result<PackManifest, PluginErrorKind> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| PluginErrorKind::InvalidSyntax { format: "JSON", message: e.to_string() })?;
    check_schema_version(value.get("schema_version").and_then(serde_json::Value::as_u64))?;
    serde_json::from_value(value).map_err(|e| PluginErrorKind::Schema(e.to_string()))
}

/// Parses a TOML manifest strictly, telling syntax, schema version and schema errors apart.
pub fn parse_toml_manifest(text: &str) -> Result<PackManifest, PluginErrorKind> {
    let value: toml::Table = toml::from_str(text)
        .map_err(|e| PluginErrorKind::InvalidSyntax { format: "TOML", message: e.message().to_owned() })?;
    let version = value.get("schema_version").and_then(toml::Value::as_integer).and_then(|v| u64::try_from(v).ok());
    check_schema_version(version)?;
    toml::from_str(text).map_err(|e: toml::de::Error| PluginErrorKind::Schema(e.message().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_versions_follow_semver_compatibility() {
        assert!(core_compatible("0.1.0", "0.1.7"));
        assert!(!core_compatible("0.2.0", "0.1.0"));
        assert!(core_compatible("1.2.0", "1.9.1"));
        assert!(!core_compatible("2.0.0", "1.0.0"));
        assert!(!core_compatible("garbage", "1.0.0"));
    }

    #[test]
    fn json_errors_are_told_apart() {
        assert!(matches!(parse_json_manifest("{not json"), Err(PluginErrorKind::InvalidSyntax { .. })));
        assert!(matches!(
            parse_json_manifest(r#"{"schema_version": 9}"#),
            Err(PluginErrorKind::SchemaVersion { found: 9, .. })
        ));
        let unknown = r#"{"schema_version":1,"id":"x","version":"1","title":"X","resource_types":[],"permissions":[],"roles":[],"colour":"red"}"#;
        match parse_json_manifest(unknown) {
            Err(PluginErrorKind::Schema(message)) => assert!(message.contains("unknown field `colour`"), "{message}"),
            other => panic!("expected a schema error, got {other:?}"),
        }
    }
}
