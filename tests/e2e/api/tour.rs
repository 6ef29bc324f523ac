//! The rest of the API, one happy path each: packs, principals, accounts, resources,
//! grants, groups, custom roles, permissions, invites, masquerade, and `rosterd token create`.

use roster_e2e::daemon::{Backend, Daemon, backends};
use roster_e2e::http::send;
use serde_json::json;

use super::{add_member, create_account};

#[test]
fn every_remaining_endpoint_answers_as_documented() {
    for backend in backends() {
        let d = Daemon::start(&backend);
        let packs = d.call("GET", "/v1/packs", None, None).json();
        assert_eq!(packs.as_array().map(Vec::len), Some(5));
        let studio = d.call("GET", "/v1/packs/studio", None, None).json();
        assert_eq!(studio["roles"][0]["id"], "owner");
        assert_eq!(studio["roles"][0]["single_holder"], true);
        let csv = d.call("GET", "/v1/packs/studio/matrix?format=csv", None, None);
        assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
        assert!(csv.text.starts_with("permission,owner,admin,manager,"), "{}", csv.text);

        create_account(&d, "s1", "studio", "olivia");
        let account = d.call("GET", "/v1/accounts/s1", None, None).json();
        assert_eq!((account["pack"].clone(), account["name"].clone()), (json!("studio"), json!("Account s1")));
        let profile =
            d.call("PUT", "/v1/principals/adam", None, Some(json!({ "email": "adam@example.com", "name": "Adam" })));
        assert_eq!(profile.status, 200, "{}", profile.text);
        add_member(&d, "s1", "adam", "admin");
        let adam = d.call("GET", "/v1/principals/adam", None, None).json();
        assert_eq!(adam["email"], "adam@example.com");
        assert_eq!(adam["memberships"][0]["membership"]["role"], "admin");

        assert_eq!(
            d.call("POST", "/v1/accounts/s1/resources", Some("adam"), Some(json!({ "resource": "studio:a" }))).status,
            201
        );
        let resource = d.call("GET", "/v1/accounts/s1/resources/studio/a", None, None).json();
        assert_eq!((resource["parent"].clone(), resource["owner"].clone()), (json!("account"), json!("adam")));
        let grant = d.call(
            "POST",
            "/v1/accounts/s1/grants",
            Some("adam"),
            Some(json!({ "subject": "principal:cli", "resource": "studio:a", "role": "studio_client" })),
        );
        assert_eq!(grant.status, 201, "{}", grant.text);
        let grants = d.call("GET", "/v1/accounts/s1/grants?resource=studio:a", None, None).json();
        assert_eq!(grants["items"][0]["subject"], "principal:cli");
        let effective = d
            .call(
                "POST",
                "/v1/permissions",
                None,
                Some(json!({ "account": "s1", "principal": "cli", "resource": "studio:a" })),
            )
            .json();
        assert_eq!(effective["roles"], json!(["studio_client"]));
        assert!(effective["permissions"].as_array().expect("list").contains(&json!("studio.analytics.view")));

        assert_eq!(d.call("POST", "/v1/accounts/s1/groups", Some("adam"), Some(json!({ "id": "team" }))).status, 201);
        assert_eq!(d.call("PUT", "/v1/accounts/s1/groups/team/members/cli", Some("adam"), None).status, 200);
        assert_eq!(d.call("GET", "/v1/accounts/s1/groups", None, None).json()["items"][0]["members"], json!(["cli"]));
        assert_eq!(d.call("DELETE", "/v1/accounts/s1/groups/team/members/cli", Some("adam"), None).status, 200);

        let role = d.call(
            "POST",
            "/v1/accounts/s1/roles",
            Some("adam"),
            Some(json!({ "id": "helper", "title": "Helper", "rank": 20, "permissions": ["pickaxe.view"] })),
        );
        assert_eq!(role.status, 201, "{}", role.text);
        let roles = d.call("GET", "/v1/accounts/s1/roles", None, None).json();
        assert!(roles["items"].as_array().expect("list").iter().any(|r| r["id"] == "helper" && r["custom"] == true));
        assert_eq!(d.call("DELETE", "/v1/accounts/s1/roles/helper", Some("adam"), None).status, 200);

        let invite =
            d.call("POST", "/v1/accounts/s1/invites", Some("adam"), Some(json!({ "email": "zed@example.com" }))).json();
        let invite_id = invite["id"].as_str().expect("id").to_owned();
        assert_eq!(
            d.call("GET", "/v1/accounts/s1/invites", Some("adam"), None).json()["items"][0]["status"],
            "pending"
        );
        assert_eq!(d.call("DELETE", &format!("/v1/accounts/s1/invites/{invite_id}"), Some("adam"), None).status, 200);
        let revoked = d.call("POST", "/v1/invites/accept", None, Some(json!({ "token": invite["token"], "principal": { "id": "zed", "email": "zed@example.com", "name": "Zed" } })));
        assert_eq!((revoked.status, revoked.code().as_str()), (409, "conflict"), "a revoked invite cannot be accepted");

        assert_eq!(d.call("DELETE", "/v1/accounts/s1/resources/studio/a", Some("adam"), None).status, 200);
        assert_eq!(d.call("GET", "/v1/accounts/s1/resources/studio/a", None, None).status, 404);
        assert!(
            d.call("GET", "/v1/accounts/s1/grants", None, None).json()["items"].as_array().expect("list").is_empty(),
            "grants went with the resource"
        );
    }
}

#[test]
fn token_create_prints_a_working_token_alone_on_the_last_line() {
    let d = Daemon::start(&Backend::Sqlite);
    let output = d.cli(&["token", "create", "--service", "billing-backend"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let token = stdout.lines().last().expect("a line").trim().to_owned();
    assert!(token.starts_with("rst_"), "{stdout}");
    let bearer = format!("Bearer {token}");
    assert_eq!(send(&d.address, "GET", "/v1/packs", &[("Authorization", &bearer)], b"").status, 200);
    let migrate = d.cli(&["migrate"]);
    assert!(migrate.status.success(), "migrations are idempotent");
}
