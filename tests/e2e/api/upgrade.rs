//! Pack upgrades across a restart: a renamed role carried over by a migration table (every
//! member keeps the same access, audited, idempotent), and an upgrade that would strand
//! stored data refused with the complete list, by `serve` and by `packs check-upgrade`.

use roster_e2e::daemon::{Daemon, Launch, backends};
use serde_json::{Value, json};

use super::{add_member, create_account};

const WIKI_1: &str = include_str!("upgrade/wiki-1.toml");
const WIKI_2: &str = include_str!("upgrade/wiki-2.toml");
const WIKI_3: &str = include_str!("upgrade/wiki-3.toml");
const WIKI_4: &str = include_str!("upgrade/wiki-4.toml");

/// Account `w1` (owner olivia) with an editor, a viewer, an editor by group grant, a
/// custom role that uses `attachment.view`, a page grant, an attachment and a pending
/// invite to the editor role.
fn wiki(backend: &roster_e2e::daemon::Backend) -> Daemon {
    let d = Daemon::start_launched(backend, "", Launch { toml_packs: &[("wiki.toml", WIKI_1)], ..Launch::default() });
    create_account(&d, "w1", "wiki", "olivia");
    add_member(&d, "w1", "ed", "editor");
    add_member(&d, "w1", "vic", "viewer");
    add_member(&d, "w1", "gus", "viewer");
    let ok = |r: roster_e2e::http::Response, what: &str| assert!(r.status < 300, "{what}: {} {}", r.status, r.text);
    ok(d.call("POST", "/v1/accounts/w1/groups", None, Some(json!({ "id": "eds" }))), "group");
    ok(d.call("PUT", "/v1/accounts/w1/groups/eds/members/gus", None, None), "group member");
    ok(
        d.call("POST", "/v1/accounts/w1/grants", None, Some(json!({ "subject": "group:eds", "role": "editor" }))),
        "group grant",
    );
    let reader =
        json!({ "id": "reader", "title": "Reader", "rank": 5, "permissions": ["page.view", "attachment.view"] });
    ok(d.call("POST", "/v1/accounts/w1/roles", None, Some(reader)), "custom role");
    add_member(&d, "w1", "rita", "reader");
    for resource in ["page:home", "attachment:logo"] {
        ok(d.call("POST", "/v1/accounts/w1/resources", None, Some(json!({ "resource": resource }))), resource);
    }
    let page_grant = json!({ "subject": "principal:vic", "resource": "page:home", "role": "page_editor" });
    ok(d.call("POST", "/v1/accounts/w1/grants", None, Some(page_grant)), "page grant");
    let invite = json!({ "email": "new@example.com", "role": "editor" });
    ok(d.call("POST", "/v1/accounts/w1/invites", None, Some(invite)), "invite");
    d
}

/// Every decision about the account's principals on the account and the page.
fn decisions(d: &Daemon) -> Vec<Value> {
    decisions_named(d, "page")
}

/// [`decisions`], with the page's type (and its permissions' prefix) called `page_type`.
fn decisions_named(d: &Daemon, page_type: &str) -> Vec<Value> {
    let mut checks = Vec::new();
    let (view, edit, home) = (format!("{page_type}.view"), format!("{page_type}.edit"), format!("{page_type}:home"));
    for principal in ["olivia", "ed", "vic", "gus", "rita"] {
        for permission in [view.as_str(), edit.as_str(), "member.view"] {
            for resource in [None, Some(home.as_str())] {
                checks.push(
                    json!({ "account": "w1", "principal": principal, "permission": permission, "resource": resource }),
                );
            }
        }
    }
    let r = d.call("POST", "/v1/check/batch", None, Some(json!({ "checks": checks })));
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["results"].as_array().expect("results").iter().map(|a| a["allowed"].clone()).collect()
}

fn audit_actions(d: &Daemon, path: &str) -> Vec<String> {
    let trail = d.call("GET", path, None, None).json();
    trail["items"].as_array().expect("items").iter().filter_map(|e| e["action"].as_str().map(str::to_owned)).collect()
}

#[test]
fn a_renamed_role_is_carried_across_an_upgrade_by_its_migration_and_everyone_keeps_their_access() {
    for backend in backends() {
        let mut d = wiki(&backend);
        let before = decisions(&d);
        assert!(d.stop(), "{backend:?}: clean stop");
        d.write_toml_pack("wiki.toml", WIKI_2);

        // Without a migration the daemon refuses to serve, naming every use of `editor`.
        let refused = d.cli(&["serve"]);
        let stderr = String::from_utf8_lossy(&refused.stderr).into_owned();
        assert!(!refused.status.success(), "{backend:?}: served stranded data");
        assert!(stderr.contains("role `editor` is gone"), "{backend:?}: {stderr}");
        assert!(
            stderr.contains("1 grants") && stderr.contains("1 memberships") && stderr.contains("1 pending invites"),
            "{stderr}"
        );
        assert!(stderr.contains("[packs.migrations.wiki] roles = { editor = "), "{backend:?}: the fix: {stderr}");

        d.append_config("\n[packs.migrations.wiki]\nroles = { editor = \"writer\" }\n");
        let dry = d.cli(&["packs", "check-upgrade"]);
        let out = String::from_utf8_lossy(&dry.stdout).into_owned();
        assert!(dry.status.success(), "{backend:?}: {out}{}", String::from_utf8_lossy(&dry.stderr));
        assert!(
            out.contains("pack wiki: 1.0.0 -> 2.0.0") && out.contains("role editor → writer (memberships): 1"),
            "{out}"
        );
        assert!(out.contains("would move 3 row(s) in 1 account(s)"), "{backend:?}: {out}");

        d.relaunch();
        assert_eq!(decisions(&d), before, "{backend:?}: the same access after the rename");
        let ed = d.call("GET", "/v1/accounts/w1/members/ed", None, None).json();
        assert_eq!(ed["membership"]["role"], "writer", "{backend:?}: {ed}");
        let trail = audit_actions(&d, "/v1/accounts/w1/audit");
        assert_eq!(trail.iter().filter(|a| *a == "pack.upgrade").count(), 1, "{backend:?}: {trail:?}");
        let platform = audit_actions(&d, "/v1/audit");
        assert!(platform.iter().any(|a| a == "pack.change"), "{backend:?}: {platform:?}");
        for chain in ["/v1/audit/verify", "/v1/accounts/w1/audit/verify"] {
            assert_eq!(d.call("GET", chain, None, None).json()["ok"], true, "{backend:?}: {chain}");
        }
        // The invite made for `editor` is accepted as a writer.
        let invites = d.call("GET", "/v1/accounts/w1/invites", None, None).json();
        assert_eq!(invites["items"][0]["role"], "writer", "{backend:?}: {invites}");

        // Idempotent: another start moves nothing and audits nothing.
        d.restart();
        assert_eq!(decisions(&d), before, "{backend:?}");
        assert_eq!(audit_actions(&d, "/v1/accounts/w1/audit"), trail, "{backend:?}: no second pack.upgrade");
    }
}

#[test]
fn a_renamed_resource_type_is_carried_across_with_its_resources_grants_and_permissions() {
    for backend in backends() {
        let mut d = wiki(&backend);
        // A comment under the page: its parent is renamed with the page.
        let comment = json!({ "resource": "comment:c1", "parent": "page:home" });
        let created = d.call("POST", "/v1/accounts/w1/resources", None, Some(comment));
        assert!(created.status < 300, "{backend:?}: {}", created.text);
        let on_comment = |d: &Daemon, permission: &str| {
            let check =
                json!({ "account": "w1", "principal": "vic", "permission": permission, "resource": "comment:c1" });
            d.call("POST", "/v1/check", None, Some(check)).json()["allowed"].clone()
        };
        assert_eq!(on_comment(&d, "page.edit"), true, "{backend:?}: vic's page grant reaches the comment");
        // A custom role with a wildcard over the renamed permissions.
        let pager = json!({ "id": "pager", "title": "Pager", "rank": 6, "permissions": ["page.*"] });
        let created = d.call("POST", "/v1/accounts/w1/roles", None, Some(pager));
        assert!(created.status < 300, "{backend:?}: {}", created.text);
        let before = decisions_named(&d, "page");
        assert!(d.stop(), "{backend:?}: clean stop");
        d.write_toml_pack("wiki.toml", WIKI_4);
        let refused = d.cli(&["serve"]);
        let stderr = String::from_utf8_lossy(&refused.stderr).into_owned();
        assert!(!refused.status.success(), "{backend:?}: served stranded data");
        assert!(stderr.contains("resource type `page` is gone, but 1 resources have it (w1)"), "{stderr}");
        assert!(stderr.contains("[packs.migrations.wiki] types = { page = "), "{backend:?}: the fix: {stderr}");

        d.append_config(
            "\n[packs.migrations.wiki]\nroles = { editor = \"writer\" }\ntypes = { page = \"article\" }\n\
             permissions = { \"page.view\" = \"article.view\", \"page.edit\" = \"article.edit\", \"page.*\" = \"article.*\" }\n",
        );
        let dry = d.cli(&["packs", "check-upgrade"]);
        let out = String::from_utf8_lossy(&dry.stdout).into_owned();
        assert!(dry.status.success(), "{backend:?}: {out}{}", String::from_utf8_lossy(&dry.stderr));
        assert!(out.contains("type page → article (resources): 1"), "{backend:?}: {out}");

        d.relaunch();
        assert_eq!(decisions_named(&d, "article"), before, "{backend:?}: the same access on the renamed page");
        assert_eq!(on_comment(&d, "article.edit"), true, "{backend:?}: the grant still reaches the comment");
        let moved = d.call("GET", "/v1/accounts/w1/resources/comment/c1", None, None).json();
        assert_eq!(moved["parent"], "article:home", "{backend:?}: {moved}");
        let old = d.call("GET", "/v1/accounts/w1/resources/page/home", None, None);
        assert_eq!(old.status, 404, "{backend:?}: the old name is gone: {}", old.text);
        let grants = d.call("GET", "/v1/accounts/w1/grants", None, None).json();
        let on: Vec<&str> = grants["items"]
            .as_array()
            .expect("grants")
            .iter()
            .filter_map(|g| g["resource"].as_str())
            .filter(|r| *r != "account")
            .collect();
        assert_eq!(on, ["article:home"], "{backend:?}: the page grant follows its page: {grants}");
        let reader = d.call("GET", "/v1/accounts/w1/roles", None, None).json();
        let permissions_of = |id: &str| {
            let items = reader["items"].as_array().cloned().unwrap_or_default();
            items.into_iter().find(|r| r["id"] == id).map(|r| r["permissions"].clone())
        };
        assert_eq!(permissions_of("reader"), Some(json!(["article.view", "attachment.view"])), "{backend:?}: {reader}");
        assert_eq!(permissions_of("pager"), Some(json!(["article.view", "article.edit"])), "{backend:?}: the wildcard");
        // Idempotent, and the old name is gone everywhere: a restart moves nothing.
        let trail = audit_actions(&d, "/v1/accounts/w1/audit");
        d.restart();
        assert_eq!(audit_actions(&d, "/v1/accounts/w1/audit"), trail, "{backend:?}: no second pack.upgrade");
        assert_eq!(decisions_named(&d, "article"), before, "{backend:?}");
    }
}

#[test]
fn an_upgrade_that_strands_stored_data_is_refused_with_the_complete_list_and_changes_nothing() {
    for backend in backends() {
        let mut d = wiki(&backend);
        let before = decisions(&d);
        let dump = d.dump();
        assert!(d.stop(), "{backend:?}: clean stop");
        d.write_toml_pack("wiki.toml", WIKI_3);
        d.append_config("\n[packs.migrations.wiki]\nroles = { editor = \"writer\" }\n");

        for args in [&["serve"][..], &["packs", "check-upgrade"][..]] {
            let refused = d.cli(args);
            let stderr = String::from_utf8_lossy(&refused.stderr).into_owned();
            assert!(!refused.status.success(), "{backend:?} {args:?}: accepted");
            assert!(
                stderr.contains("uses 3 thing(s) the loaded packs no longer define"),
                "{backend:?} {args:?}: {stderr}"
            );
            assert!(stderr.contains("role `viewer` is gone, but 2 memberships hold it (w1)"), "{stderr}");
            assert!(
                stderr.contains("permission `attachment.view` is gone, but 1 custom roles use it (w1/reader)"),
                "{stderr}"
            );
            assert!(stderr.contains("resource type `attachment` is gone, but 1 resources have it (w1)"), "{stderr}");
            assert!(!stderr.contains("`editor`"), "{backend:?}: the migration covers editor: {stderr}");
        }
        assert_eq!(d.dump(), dump, "{backend:?}: nothing written, the migration of editor included");

        // With a pack that keeps what the data uses, the same start goes through.
        d.write_toml_pack("wiki.toml", WIKI_2);
        d.relaunch();
        assert_eq!(decisions(&d), before, "{backend:?}");
    }
}

#[test]
fn a_migration_table_that_would_misplace_data_is_refused_whole_and_writes_nothing() {
    for backend in backends() {
        // Entries that chain, name a role the pack still defines, or map to nothing: every
        // problem at once.
        let mut d = wiki(&backend);
        let dump = d.dump();
        assert!(d.stop(), "{backend:?}: clean stop");
        d.write_toml_pack("wiki.toml", WIKI_2);
        d.append_config(
            "\n[packs.migrations.wiki]\nroles = { editor = \"writer\", viewer = \"editor\", gone = \"nowhere\" }\n",
        );
        let refused = d.cli(&["serve"]);
        let stderr = String::from_utf8_lossy(&refused.stderr).into_owned();
        assert!(!refused.status.success(), "{backend:?}: {stderr}");
        for problem in [
            "role `viewer` is still defined by pack `wiki`",
            "role `viewer` maps to `editor`, which pack `wiki` does not define",
            "role `editor` is both mapped from `viewer` and mapped on",
            "role `gone` maps to `nowhere`",
        ] {
            assert!(stderr.contains(problem), "{backend:?}: missing `{problem}` in {stderr}");
        }
        assert_eq!(d.dump(), dump, "{backend:?}: nothing written");

        // A migration whose result the packs cannot serve (an account-wide membership of a
        // role grantable only on pages) is rolled back, though nothing is missing.
        let mut d = wiki(&backend);
        let dump = d.dump();
        assert!(d.stop(), "{backend:?}: clean stop");
        d.write_toml_pack("wiki.toml", WIKI_2);
        d.append_config("\n[packs.migrations.wiki]\nroles = { editor = \"page_editor\" }\n");
        for args in [&["serve"][..], &["packs", "check-upgrade"][..]] {
            let refused = d.cli(args);
            let stderr = String::from_utf8_lossy(&refused.stderr).into_owned();
            assert!(!refused.status.success(), "{backend:?} {args:?}: {stderr}");
            assert!(stderr.contains("would leave data they cannot serve"), "{backend:?}: {stderr}");
        }
        assert_eq!(d.dump(), dump, "{backend:?}: nothing written");

        // Merging type `attachment` into `page` where both have an `home`: refused naming the
        // pair, not a primary-key error, in serve and in the dry run; nothing written.
        let mut d = wiki(&backend);
        let clash = d.call("POST", "/v1/accounts/w1/resources", None, Some(json!({ "resource": "attachment:home" })));
        assert!(clash.status < 300, "{backend:?}: {}", clash.text);
        let dump = d.dump();
        assert!(d.stop(), "{backend:?}: clean stop");
        let merged = WIKI_2.replace("[[resource_types]]\nname = \"attachment\"\nparent = \"space\"\n", "");
        assert_ne!(merged, WIKI_2, "the attachment type was found");
        d.write_toml_pack("wiki.toml", &merged);
        d.append_config(
            "\n[packs.migrations.wiki]\nroles = { editor = \"writer\" }\ntypes = { attachment = \"page\" }\n",
        );
        for args in [&["serve"][..], &["packs", "check-upgrade"][..]] {
            let refused = d.cli(args);
            let stderr = String::from_utf8_lossy(&refused.stderr).into_owned();
            assert!(!refused.status.success(), "{backend:?} {args:?}: {stderr}");
            assert!(
                stderr.contains("would give 1 resource(s) a name another already has: w1/attachment:home → page:home"),
                "{backend:?} {args:?}: {stderr}"
            );
        }
        assert_eq!(d.dump(), dump, "{backend:?}: nothing written");

        // No name is missing and no migration is configured, but the new version makes
        // `editor` grantable only on pages while members hold it account-wide: refused
        // before anything is served or recorded, not a failed snapshot load.
        let mut d = wiki(&backend);
        let dump = d.dump();
        assert!(d.stop(), "{backend:?}: clean stop");
        let narrower = WIKI_1.replace("version = \"1.0.0\"", "version = \"1.1.0\"").replace(
            "rank = 50\npermissions = [\"page.view\", \"page.edit\", \"attachment.view\", \"member.view\"]",
            "rank = 50\npermissions = [\"page.view\", \"page.edit\", \"attachment.view\", \"member.view\"]\ngrantable_on = [\"page\"]",
        );
        assert_ne!(narrower, WIKI_1, "the editor role was found");
        d.write_toml_pack("wiki.toml", &narrower);
        for args in [&["serve"][..], &["packs", "check-upgrade"][..]] {
            let refused = d.cli(args);
            let stderr = String::from_utf8_lossy(&refused.stderr).into_owned();
            assert!(!refused.status.success(), "{backend:?} {args:?}: {stderr}");
            assert!(stderr.contains("would leave data they cannot serve"), "{backend:?} {args:?}: {stderr}");
        }
        assert_eq!(d.dump(), dump, "{backend:?}: nothing written, the pack not recorded as served");
    }
}
