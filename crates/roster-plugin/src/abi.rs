//! The plugin ABI, version 1: one exported `extern "C"` entry returning a pointer to a
//! static, append-only `#[repr(C)]` descriptor. Only C types cross the boundary, so a
//! plugin built by another rustc works as long as the descriptor layout matches.

/// Tag at the start of every descriptor.
pub const MAGIC: [u8; 8] = *b"ROSTRPK\0";

/// This ABI's major version; it is also part of the entry symbol's name.
pub const ABI_VERSION: u32 = 1;

/// The entry symbol, NUL-terminated.
pub const ENTRY_SYMBOL: &[u8] = b"roster_pack_entry_v1\0";

/// Bytes reserved for the core version string in the descriptor.
pub const CORE_VERSION_BYTES: usize = 32;

/// `write_manifest` succeeded: the buffer holds manifest JSON.
pub const STATUS_OK: i32 = 0;
/// The manifest builder returned an error: the buffer holds its message.
pub const STATUS_ERROR: i32 = 1;
/// The manifest builder panicked: the buffer holds the panic message.
pub const STATUS_PANIC: i32 = 2;

/// Bytes allocated by the plugin; only the plugin's `free_buffer` may release them.
#[repr(C)]
#[derive(Debug)]
pub struct RosterBuffer {
    /// Start of the bytes.
    pub ptr: *mut u8,
    /// Number of bytes.
    pub len: usize,
    /// Allocation capacity, needed to free.
    pub cap: usize,
}

/// What `write_manifest` returns.
#[repr(C)]
#[derive(Debug)]
pub struct ManifestOutput {
    /// One of the `STATUS_*` values.
    pub status: i32,
    /// JSON or an error message, UTF-8.
    pub buffer: RosterBuffer,
}

/// The fields every descriptor version starts with, at fixed offsets.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DescriptorHeader {
    /// Must equal [`MAGIC`].
    pub magic: [u8; 8],
    /// Must equal [`ABI_VERSION`].
    pub abi_version: u32,
    /// `size_of::<PackDescriptor>()` as the plugin was built; grows as fields are appended.
    pub size: u32,
}

/// The descriptor a plugin exports. Append-only: new fields go at the end and the loader
/// checks `header.size` before reading them.
#[repr(C)]
#[derive(Debug)]
pub struct PackDescriptor {
    /// Magic, ABI version and size.
    pub header: DescriptorHeader,
    /// The `roster-core` version the plugin was built against, NUL-padded.
    pub core_version: [u8; CORE_VERSION_BYTES],
    /// Builds the manifest and returns it as JSON.
    pub write_manifest: extern "C" fn() -> ManifestOutput,
    /// Frees a buffer that `write_manifest` returned.
    pub free_buffer: extern "C" fn(RosterBuffer),
}

/// The entry symbol's type.
pub type EntryFn = unsafe extern "C" fn() -> *const PackDescriptor;

impl PackDescriptor {
    /// A descriptor for this ABI and the core this crate was built with.
    pub const fn new(
        write_manifest: extern "C" fn() -> ManifestOutput,
        free_buffer: extern "C" fn(RosterBuffer),
    ) -> Self {
        PackDescriptor {
            header: DescriptorHeader {
                magic: MAGIC,
                abi_version: ABI_VERSION,
                size: size_of::<PackDescriptor>() as u32,
            },
            core_version: version_bytes(roster_core::CORE_VERSION),
            write_manifest,
            free_buffer,
        }
    }

    /// The core version as text (up to the first NUL).
    pub fn core_version(&self) -> String {
        let end = self.core_version.iter().position(|&b| b == 0).unwrap_or(CORE_VERSION_BYTES);
        String::from_utf8_lossy(&self.core_version[..end]).into_owned()
    }
}

/// `version` as NUL-padded bytes (truncated to fit).
pub const fn version_bytes(version: &str) -> [u8; CORE_VERSION_BYTES] {
    let mut out = [0u8; CORE_VERSION_BYTES];
    let bytes = version.as_bytes();
    let mut i = 0;
    while i < bytes.len() && i < CORE_VERSION_BYTES - 1 {
        out[i] = bytes[i];
        i += 1;
    }
    out
}
