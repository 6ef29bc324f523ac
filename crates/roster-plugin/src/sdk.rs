//! The SDK for pack authors: [`export_pack!`](crate::export_pack) turns any
//! [`RolePack`] (a [`TomlPack`], a plain [`PackManifest`], the typed pack `roster-packgen`
//! generates) into a plugin. Only the manifest crosses the boundary, as JSON. Panics inside
//! the builder are caught and reported as errors (an unwinding panic across `extern "C"`
//! would abort the daemon).

use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind};

use roster_core::{ManifestError, PackManifest, RolePack, consistent_manifest};

use crate::abi::{ManifestOutput, RosterBuffer, STATUS_ERROR, STATUS_OK, STATUS_PANIC};

/// Parses a manifest written in TOML (the same schema as `config/packs/*.toml`).
pub fn manifest_from_toml(text: &str) -> Result<PackManifest, toml::de::Error> {
    toml::from_str(text)
}

/// A pack written in TOML (the schema of `config/packs/*.toml`): one implementation of
/// [`RolePack`], its names the manifest's strings.
#[derive(Clone, Debug, PartialEq)]
pub struct TomlPack {
    manifest: PackManifest,
}

impl TomlPack {
    /// Reads a pack from its TOML text.
    pub fn parse(text: &str) -> Result<TomlPack, TomlError> {
        manifest_from_toml(text).map(|manifest| TomlPack { manifest })
    }
}

impl RolePack for TomlPack {
    type Permission = roster_core::manifest::PermissionDef;
    type Role = roster_core::RoleDef;

    fn id(&self) -> &str {
        &self.manifest.id
    }

    fn version(&self) -> &str {
        &self.manifest.version
    }

    fn permissions(&self) -> &[Self::Permission] {
        &self.manifest.permissions
    }

    fn roles(&self) -> &[Self::Role] {
        &self.manifest.roles
    }

    fn manifest(&self) -> Result<PackManifest, ManifestError> {
        Ok(self.manifest.clone())
    }
}

/// Runs `build` and packs its pack's manifest (or its failure) into a [`ManifestOutput`].
/// A pack whose typed names disagree with its manifest is an error, not a plugin.
pub fn write_manifest<P: RolePack, E: Display>(build: fn() -> Result<P, E>) -> ManifestOutput {
    write_output(|| {
        let pack = build().map_err(|e| e.to_string())?;
        consistent_manifest(&pack).map(|manifest| manifest.to_json()).map_err(|e| e.to_string())
    })
}

/// Packs one pack value's manifest into a [`ManifestOutput`] (`export_pack!(pack = …)`).
pub fn write_pack<P: RolePack>(pack: impl FnOnce() -> P) -> ManifestOutput {
    write_output(|| consistent_manifest(&pack()).map(|manifest| manifest.to_json()).map_err(|e| e.to_string()))
}

/// Runs `build` and hands its text over as the manifest JSON, unchecked. For plugins that
/// produce JSON themselves (and for testing the loader's checks).
pub fn write_manifest_json(build: fn() -> String) -> ManifestOutput {
    write_output(|| Ok(build()))
}

fn write_output(build: impl FnOnce() -> Result<String, String>) -> ManifestOutput {
    let (status, text) = match catch_unwind(AssertUnwindSafe(build)) {
        Ok(Ok(json)) => (STATUS_OK, json),
        Ok(Err(message)) => (STATUS_ERROR, message),
        Err(panic) => (STATUS_PANIC, panic_message(panic.as_ref())),
    };
    ManifestOutput { status, buffer: into_buffer(text.into_bytes()) }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "the manifest builder panicked with a non-text payload".to_owned()
    }
}

fn into_buffer(bytes: Vec<u8>) -> RosterBuffer {
    let mut bytes = std::mem::ManuallyDrop::new(bytes);
    RosterBuffer { ptr: bytes.as_mut_ptr(), len: bytes.len(), cap: bytes.capacity() }
}

/// Frees a buffer made by this plugin's [`write_manifest`]. Exported through the descriptor.
pub extern "C" fn free_buffer(buffer: RosterBuffer) {
    if buffer.ptr.is_null() {
        return;
    }
    // SAFETY: the loader hands back exactly the buffer `into_buffer` produced in this same
    // plugin (same allocator), once; ptr/len/cap are the parts of that Vec.
    drop(unsafe { Vec::from_raw_parts(buffer.ptr, buffer.len, buffer.cap) });
}

/// Exports a role pack from a cdylib, either a value of any [`RolePack`]
/// (`roster_plugin::export_pack!(pack = StudioPack);`) or a builder
/// (`roster_plugin::export_pack!(build);` where `fn build() -> Result<P, E>`, `P: RolePack`
/// and `E: Display`, e.g. [`TomlPack::parse`] of an included `pack.toml`).
#[macro_export]
macro_rules! export_pack {
    (pack = $pack:expr) => {
        $crate::__export_descriptor!(|| $crate::sdk::write_pack(|| $pack));
    };
    ($build:path) => {
        $crate::__export_descriptor!(|| $crate::sdk::write_manifest($build));
    };
}

/// Exports a plugin whose builder returns manifest JSON as text.
#[macro_export]
macro_rules! export_pack_json {
    ($build:path) => {
        $crate::__export_descriptor!(|| $crate::sdk::write_manifest_json($build));
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_descriptor {
    ($write:expr) => {
        extern "C" fn __roster_write_manifest() -> $crate::abi::ManifestOutput {
            ($write)()
        }

        static __ROSTER_DESCRIPTOR: $crate::abi::PackDescriptor =
            $crate::abi::PackDescriptor::new(__roster_write_manifest, $crate::sdk::free_buffer);

        /// The plugin entry point the loader looks up (ABI version 1).
        #[allow(unsafe_code)]
        #[unsafe(no_mangle)]
        pub extern "C" fn roster_pack_entry_v1() -> *const $crate::abi::PackDescriptor {
            &__ROSTER_DESCRIPTOR
        }
    };
}

/// The error type of [`manifest_from_toml`].
pub type TomlError = toml::de::Error;
