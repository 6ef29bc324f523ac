//! `rosterd packs test`: the five packs' own test files pass, and a failing or mistaken
//! test file says what and where, as a real process.

use std::path::Path;

use crate::cli::{rosterd, stderr, stdout};
use roster_e2e::workspace_root;

const PACKS: [&str; 5] = ["agency", "mods", "staff", "studio", "workspace"];

/// Runs `rosterd packs test` (with `args` before the file) on a studio test file holding
/// [`STUDIO_FIXTURES`] and `cases`: the exit code and stdout.
fn run_studio_cases(cases: &str, args: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = studio_test_file(dir.path(), &[STUDIO_FIXTURES, cases].concat());
    let output = rosterd(&[&["packs", "test"], args, &[file.as_str()]].concat(), &[]);
    (output.status.code(), stdout(&output))
}

/// Writes a test file for the studio pack (by absolute path) into a fresh directory.
fn studio_test_file(dir: &Path, body: &str) -> String {
    let pack = workspace_root().join("plugins/studio/pack.toml");
    let file = dir.join("probe.test.yaml");
    std::fs::write(&file, format!("pack: {}\n{body}", pack.display())).expect("write the test file");
    file.to_str().expect("utf-8 path").to_owned()
}

const STUDIO_FIXTURES: &str = "\
accounts:
  - id: s1
    members:
      olivia: owner
      adam: admin
cases:
";

#[test]
fn the_five_packs_test_files_pass() {
    let plugins = workspace_root().join("plugins");
    let output = rosterd(&["packs", "test", plugins.to_str().expect("utf-8 path")], &[]);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}{}", stderr(&output));
    for pack in PACKS {
        assert!(
            text.contains(&format!("plugins/{pack}/tests/{pack}.test.yaml (pack {pack} ")),
            "{pack} missing:\n{text}"
        );
    }
    let summary = text.lines().last().expect("a summary line");
    assert!(summary.ends_with(" passed, 0 failed (5 files)"), "{summary}");
    let passed: usize = summary.split(' ').next().and_then(|n| n.parse().ok()).expect("a count");
    assert!(passed >= 150, "the packs' files state at least 150 assertions, got {passed}");
}

#[test]
fn a_failing_case_shows_expected_and_actual_and_fails_the_run() {
    let (code, text) = run_studio_cases(
        r#"  - name: Admins have billing access (wrong on purpose)
    check: {principal: adam, permission: billing.view}
    expect: allowed
  - name: The owner's permissions (a list with one wrong item)
    permissions: {principal: olivia}
    includes: [billing.view, billing.fly]
  - check: {principal: olivia, permission: billing.view}
    expect: allowed
"#,
        &[],
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("FAIL ") && text.contains(":8  Admins have billing access (wrong on purpose)"), "{text}");
    assert!(text.contains("expected: allowed") && text.contains("actual:   denied"), "{text}");
    assert!(text.contains("expected: including billing.fly"), "{text}");
    assert!(text.contains("ok   ") && text.contains("olivia allowed billing.view"), "a generated name: {text}");
    assert!(text.ends_with("1 passed, 2 failed (1 file)\n"), "{text}");
}

#[test]
fn typos_are_errors_that_point_at_their_line_not_denials() {
    let (code, text) = run_studio_cases(
        r#"  - check: {principal: adam, permission: billing.veiw}
    expect: denied
  - check: {principal: adma, permission: billing.view}
    expect: denied
  - check: {principal: adam, permission: billing.view}
    expect: refused
"#,
        &[],
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(":8  ") && text.contains("permission `billing.veiw` is not a permission of pack `studio`"),
        "{text}"
    );
    assert!(text.contains(":10  ") && text.contains("principal `adma` appears nowhere in the fixtures"), "{text}");
    assert!(text.contains(":12  ") && text.contains("`expect: refused` is not allowed or denied here"), "{text}");
    assert!(text.ends_with("0 passed, 3 failed (1 file)\n"), "{text}");

    let dir = tempfile::tempdir().expect("tempdir");
    let bad_fixture = studio_test_file(
        dir.path(),
        "accounts:\n  - id: s1\n    members:\n      olivia: owner\n      ed: editor\ncases: []\n",
    );
    let output = rosterd(&["packs", "test", &bad_fixture], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("the fixtures do not build: line 6: ") && stdout(&output).contains("editor"),
        "{}",
        stdout(&output)
    );

    let bad_yaml = studio_test_file(dir.path(), "accounts:\n  - id: s1\n    membrs: {}\n");
    let output = rosterd(&["packs", "test", &bad_yaml], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("line 4") && stdout(&output).contains("membrs"), "{}", stdout(&output));
}

#[test]
fn junit_output_names_every_case_and_its_failure() {
    let (code, xml) = run_studio_cases(
        r#"  - name: Admins may not bill
    check: {principal: adam, permission: billing.view}
    expect: denied
  - name: Admins may bill (wrong)
    as: adam
    do: {add_member: {principal: x, role: admin}}
    expect: allowed
"#,
        &["--format", "junit"],
    );
    assert_eq!(code, Some(1), "{xml}");
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains("tests=\"2\"") && xml.contains("failures=\"1\""), "{xml}");
    assert!(xml.contains("name=\"Admins may not bill (line 8)\""), "{xml}");
    assert!(xml.contains("<failure") && xml.contains("refused (forbidden)"), "{xml}");
}

#[test]
fn a_test_file_may_name_a_loaded_pack_by_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("by-id.test.yaml");
    std::fs::write(&file, "pack: staff\ncases: []\nmatrix: none.csv\n").expect("write");
    let output = rosterd(&["packs", "test", file.to_str().expect("utf-8 path")], &[]);
    let text = stdout(&output);
    assert!(text.contains("(pack staff "), "the plugin was found by id: {text}");
    assert!(text.contains("cannot read") && text.contains("none.csv"), "{text}");
    let unknown = dir.path().join("unknown.test.yaml");
    std::fs::write(&unknown, "pack: nope\ncases: []\n").expect("write");
    let output = rosterd(&["packs", "test", unknown.to_str().expect("utf-8 path")], &[]);
    assert!(stdout(&output).contains("line 1: no pack `nope` is loaded"), "{}", stdout(&output));
}

#[test]
fn the_new_pack_scaffold_passes_its_own_test_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let templates = workspace_root().join("xtask/templates");
    for (template, target) in [("pack.toml", "pack.toml"), ("pack.test.yaml", "tests/scaffolded.test.yaml")] {
        let text = std::fs::read_to_string(templates.join(template)).expect("template");
        let path = dir.path().join(target);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text.replace("{name}", "scaffolded")).expect("write");
    }
    let tests = dir.path().join("tests");
    let output = rosterd(&["packs", "test", tests.to_str().expect("utf-8 path")], &[]);
    assert!(output.status.success(), "{}{}", stdout(&output), stderr(&output));
    assert!(stdout(&output).ends_with("6 passed, 0 failed (1 file)\n"), "{}", stdout(&output));
}

/// Every key of the manifest, as serialised with all of them present.
fn manifest_keys() -> Vec<String> {
    fn keys(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    out.push(key.clone());
                    keys(inner, out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| keys(i, out)),
            _ => {}
        }
    }
    let mut manifest = roster_e2e::pack("studio").manifest().clone();
    manifest.roles[0].grantee_requires = Some("pickaxe.view".into());
    manifest.roles[0].grantable_to_non_members = true;
    manifest.policies.masquerade_permission = Some("pickaxe.view".into());
    manifest.resource_types[0].parent = Some("none".into());
    manifest.authzen = Some(roster_core::manifest::AuthzenDef {
        actions: [("a".to_owned(), "pickaxe.view".to_owned())].into(),
        owner_property: "owner".into(),
        action_properties: vec![roster_core::manifest::ActionPropertiesDef {
            action: "a".into(),
            properties: [("p".to_owned(), serde_json::json!(true))].into(),
            permission: "pickaxe.use".into(),
        }],
    });
    let mut out = Vec::new();
    keys(&serde_json::to_value(&manifest).expect("manifest as JSON"), &mut out);
    out.retain(|k| k != "a" && k != "p");
    out.sort();
    out.dedup();
    out
}

#[test]
fn the_packs_guide_documents_every_manifest_field() {
    let guide = std::fs::read_to_string(workspace_root().join("docs/packs.md")).expect("docs/packs.md");
    let table =
        guide.split("## The manifest").nth(1).and_then(|rest| rest.split("\n## ").next()).expect("a manifest section");
    let missing: Vec<String> = manifest_keys()
        .into_iter()
        .filter(|k| !table.contains(&format!("`{k}`")) && !table.contains(&format!("[{k}]")))
        .collect();
    assert!(missing.is_empty(), "docs/packs.md's manifest table does not describe: {missing:?}");
}

#[test]
fn packs_diff_names_renames_losses_and_breaking_changes() {
    let upgrade = workspace_root().join("tests/e2e/api/upgrade");
    let path = |name: &str| upgrade.join(name).to_str().expect("utf-8 path").to_owned();
    let output = rosterd(&["packs", "diff", &path("wiki-1.toml"), &path("wiki-3.toml")], &[]);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}{}", stderr(&output));
    assert!(text.starts_with("wiki 1.0.0 -> wiki 3.0.0: "), "{text}");
    for line in [
        "BREAKING  type `attachment`: removed: resources of this type would be stranded",
        "BREAKING  permission `attachment.view`: removed",
        "BREAKING  role `editor`: removed; looks renamed to `writer` (the same permissions)",
        "BREAKING  role `viewer`: removed",
        "          role `writer`: added",
        "BREAKING  role `owner`: no longer manages `editor`",
        "          role `owner`: now manages `writer`",
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    let json = rosterd(&["packs", "diff", &path("wiki-1.toml"), &path("wiki-2.toml"), "--format", "json"], &[]);
    let diff: serde_json::Value = serde_json::from_str(&stdout(&json)).expect("JSON diff");
    let changes = diff["changes"].as_array().expect("changes");
    assert_eq!(diff["breaking"], 2, "the rename, and owner no longer managing editor: {diff}");
    assert!(changes.iter().any(|c| c["name"] == "writer" && c["what"] == "added" && c["breaking"] == false), "{diff}");
    // A pack against itself (by loaded id and by file) differs in nothing.
    let studio = workspace_root().join("plugins/studio/pack.toml");
    let same = rosterd(&["packs", "diff", "studio", studio.to_str().expect("utf-8 path")], &[]);
    assert_eq!(stdout(&same), "studio 1.0.0 -> studio 1.0.0: 0 change(s), 0 breaking\n", "{}", stderr(&same));
}
