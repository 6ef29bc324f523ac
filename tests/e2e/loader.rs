//! Loader failures, each with its own typed error, never taking other packs down. The bad
//! plugins are real cdylibs (`crates/roster-plugin/fixtures/*`) built by cargo.

use std::path::{Path, PathBuf};

use roster_core::ValidationError;
use roster_e2e::{fixture_dir, library_file, plugin_dir, workspace_root};
use roster_plugin::{LoaderConfig, PackLoader, PluginErrorKind};

fn loader_for(dir: &Path) -> PackLoader {
    PackLoader::new(LoaderConfig { plugin_dirs: vec![dir.to_owned()], ..LoaderConfig::default() })
}

fn fixture(name: &str) -> PathBuf {
    fixture_dir().join(library_file(&format!("roster_fixture_{name}")))
}

fn load_fixture(name: &str) -> PluginErrorKind {
    match loader_for(&fixture_dir()).load_plugin(&fixture(name)) {
        Ok(loaded) => panic!("fixture {name} loaded as pack {}", loaded.pack.id()),
        Err(error) => {
            assert_eq!(error.path, fixture(name), "the error names the file");
            error.kind
        }
    }
}

#[test]
fn loader_reports_a_missing_file() {
    let missing = plugin_dir().join(library_file("roster_pack_nothing"));
    let error = loader_for(&plugin_dir()).load_plugin(&missing).expect_err("no such file");
    assert!(matches!(error.kind, PluginErrorKind::NotFound), "{error}");
    assert!(error.to_string().contains("roster_pack_nothing"), "{error}");
}

#[test]
fn loader_refuses_a_file_that_is_not_a_library() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = dir.path().join(library_file("roster_pack_fake"));
    std::fs::write(&fake, "this is text, not ELF").expect("write");
    let error = loader_for(dir.path()).load_plugin(&fake).expect_err("not a library");
    assert!(matches!(error.kind, PluginErrorKind::NotALibrary(_)), "{error}");
}

#[test]
fn loader_refuses_a_library_without_the_entry_symbol() {
    assert!(matches!(load_fixture("no_entry"), PluginErrorKind::MissingEntry));
}

#[test]
fn loader_refuses_a_wrong_magic_tag() {
    assert!(matches!(load_fixture("bad_magic"), PluginErrorKind::BadMagic { found } if &found == b"NOTROSTR"));
}

#[test]
fn loader_refuses_another_abi_version() {
    assert!(matches!(load_fixture("bad_abi"), PluginErrorKind::AbiMismatch { found: 99, expected: 1 }));
}

#[test]
fn loader_survives_a_panicking_manifest_builder() {
    match load_fixture("panics") {
        PluginErrorKind::Panicked(message) => assert!(message.contains("exploded on purpose"), "{message}"),
        other => panic!("expected a caught panic, got {other}"),
    }
    // Still alive, and still able to load good packs.
    assert!(loader_for(&plugin_dir()).load_plugin(&plugin_dir().join(library_file("roster_pack_studio"))).is_ok());
}

#[test]
fn loader_refuses_a_manifest_that_is_not_json() {
    assert!(matches!(load_fixture("invalid_json"), PluginErrorKind::InvalidSyntax { format: "JSON", .. }));
}

#[test]
fn loader_refuses_unknown_manifest_fields() {
    match load_fixture("unknown_field") {
        PluginErrorKind::Schema(message) => assert!(message.contains("unknown field `superpowers`"), "{message}"),
        other => panic!("expected a schema error, got {other}"),
    }
}

#[test]
fn loader_refuses_a_role_naming_a_missing_permission() {
    match load_fixture("missing_permission") {
        PluginErrorKind::Invalid(errors) => assert!(
            errors.contains(&ValidationError::UnknownPermission {
                role: "boss".into(),
                permission: "thing.launch".into()
            }),
            "{errors}"
        ),
        other => panic!("expected a validation error, got {other}"),
    }
}

#[test]
fn loader_checks_sha256_pins() {
    let file = library_file("roster_pack_studio");
    let pinned = |hash: &str| {
        PackLoader::new(LoaderConfig {
            plugin_dirs: vec![plugin_dir()],
            pins: [(file.clone(), hash.to_owned())].into(),
            ..LoaderConfig::default()
        })
    };
    let error = pinned(&"0".repeat(64)).load_plugin(&plugin_dir().join(&file)).expect_err("wrong pin");
    let PluginErrorKind::PinMismatch { actual, .. } = error.kind else {
        panic!("expected a pin mismatch, got {error}")
    };
    let loaded = pinned(&actual).load_plugin(&plugin_dir().join(&file)).expect("the right pin loads");
    assert_eq!(loaded.pack.id(), "studio");
}

/// The pin is checked on the bytes read, and those bytes are what is loaded: the file
/// replaced between the check and the load (here by a library with a wrong magic tag)
/// changes nothing; read again, the replaced file no longer matches its pin.
#[test]
fn loader_loads_the_bytes_it_hashed_not_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = library_file("roster_pack_studio");
    let copy = dir.path().join(&file);
    std::fs::copy(plugin_dir().join(&file), &copy).expect("copy the studio plugin");
    let hash = loader_for(dir.path()).verify_plugin(&copy).expect("unpinned").sha256().to_owned();
    let loader = PackLoader::new(LoaderConfig {
        plugin_dirs: vec![dir.path().to_owned()],
        pins: [(file.clone(), hash.clone())].into(),
        ..LoaderConfig::default()
    });
    let verified = loader.verify_plugin(&copy).expect("the pin matches");
    std::fs::remove_file(&copy).expect("remove");
    std::fs::copy(fixture("bad_magic"), &copy).expect("swap in another library");
    let loaded = loader.load_verified(verified).expect("the verified bytes load");
    assert_eq!(loaded.pack.id(), "studio", "the library loaded is the one hashed");
    assert!(matches!(&loaded.source, roster_plugin::PackSource::Plugin { sha256, .. } if *sha256 == hash));
    let error = loader.load_plugin(&copy).expect_err("the swapped file is not the pinned one");
    assert!(matches!(error.kind, PluginErrorKind::PinMismatch { ref expected, .. } if *expected == hash), "{error}");
}

#[test]
fn loader_opens_nothing_outside_its_plugin_directories() {
    let error = loader_for(&fixture_dir())
        .load_plugin(&plugin_dir().join(library_file("roster_pack_studio")))
        .expect_err("outside");
    assert!(matches!(error.kind, PluginErrorKind::OutsidePluginDirs { .. }), "{error}");
}

#[test]
fn one_bad_plugin_leaves_the_others_loaded() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["roster_pack_studio", "roster_pack_staff"] {
        std::fs::copy(plugin_dir().join(library_file(name)), dir.path().join(library_file(name))).expect("copy");
    }
    for name in ["panics", "bad_magic", "missing_permission"] {
        std::fs::copy(fixture(name), dir.path().join(library_file(&format!("roster_fixture_{name}")))).expect("copy");
    }
    let (loaded, errors) = loader_for(dir.path()).load_all();
    let mut ids: Vec<&str> = loaded.iter().map(|p| p.pack.id()).collect();
    ids.sort();
    assert_eq!(ids, ["staff", "studio"]);
    assert_eq!(errors.len(), 3, "{errors:?}");
}

fn studio_toml() -> String {
    std::fs::read_to_string(workspace_root().join("plugins/studio/pack.toml")).expect("studio pack.toml")
}

#[test]
fn toml_packs_load_through_the_same_schema_and_validation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("studio2.toml");
    std::fs::write(&good, studio_toml().replace("id = \"studio\"", "id = \"studio2\"")).expect("write");
    let loaded = PackLoader::new(LoaderConfig::default()).load_toml(&good).expect("valid TOML pack");
    assert_eq!(loaded.pack.id(), "studio2");
    assert_eq!(loaded.pack.roles().len(), roster_e2e::pack("studio").roles().len());

    let unknown = dir.path().join("unknown.toml");
    std::fs::write(&unknown, studio_toml().replace("rank = 100", "rank = 100\ncolour = \"gold\"")).expect("write");
    let error = PackLoader::new(LoaderConfig::default()).load_toml(&unknown).expect_err("unknown field");
    assert!(matches!(&error.kind, PluginErrorKind::Schema(m) if m.contains("colour")), "{error}");

    let missing = dir.path().join("missing.toml");
    std::fs::write(
        &missing,
        studio_toml().replace("\"pickaxe.view\", \"pickaxe.use\"]\ndefault", "\"pickaxe.fly\"]\ndefault"),
    )
    .expect("write");
    let error = PackLoader::new(LoaderConfig::default()).load_toml(&missing).expect_err("unknown permission");
    assert!(matches!(&error.kind, PluginErrorKind::Invalid(e) if e.to_string().contains("pickaxe.fly")), "{error}");
}

#[test]
fn a_pack_id_loaded_twice_is_reported_not_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("studio.toml"), studio_toml()).expect("write");
    let loader = PackLoader::new(LoaderConfig {
        plugin_dirs: vec![plugin_dir()],
        toml_dirs: vec![dir.path().to_owned()],
        ..LoaderConfig::default()
    });
    let (loaded, errors) = loader.load_all();
    assert_eq!(loaded.iter().filter(|p| p.pack.id() == "studio").count(), 1);
    assert!(
        errors.iter().any(|e| matches!(&e.kind, PluginErrorKind::DuplicatePack { id, .. } if id == "studio")),
        "{errors:?}"
    );
}
