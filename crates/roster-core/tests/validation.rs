//! Every pack-manifest rule, each breaking a good manifest in one way and expecting its
//! own typed error.

use roster_core::manifest::{PermissionDef, ResourceTypeDef};
use roster_core::validate::ValidationErrors;
use roster_core::{PackManifest, RoleDef, ValidationError, validate};

fn good() -> PackManifest {
    serde_json::from_str(
        r#"{
        "schema_version": 1, "id": "demo", "version": "1.0.0", "title": "Demo",
        "resource_types": [{"name": "account"}, {"name": "item", "parent": "account"}],
        "permissions": [{"id": "item.view"}, {"id": "item.edit"}, {"id": "member.invite"}],
        "roles": [
            {"id": "owner", "title": "Owner", "rank": 100, "permissions": ["*"], "manages": ["member"], "single_holder": true, "transferable": true},
            {"id": "member", "title": "Member", "rank": 10, "permissions": ["item.view", "item.edit:owner"], "default": true},
            {"id": "item_editor", "title": "Item editor", "rank": 5, "permissions": ["item.*"], "grantable_on": ["item"]}
        ]
    }"#,
    )
    .expect("the base manifest parses")
}

fn errors_of(mutate: impl FnOnce(&mut PackManifest)) -> ValidationErrors {
    let mut manifest = good();
    mutate(&mut manifest);
    match validate(manifest) {
        Ok(_) => panic!("the mutated manifest should be invalid"),
        Err(errors) => errors,
    }
}

fn role<'a>(manifest: &'a mut PackManifest, id: &str) -> &'a mut RoleDef {
    manifest.roles.iter_mut().find(|r| r.id == id).expect("role exists")
}

#[test]
fn the_base_manifest_is_valid() {
    let pack = validate(good()).expect("valid");
    assert_eq!(pack.roles().len(), 3);
    assert_eq!(pack.default_role().map(|r| pack.roles()[usize::from(r)].id.as_str()), Some("member"));
}

#[test]
fn unsupported_schema_version() {
    let errors = errors_of(|m| m.schema_version = 2);
    assert!(errors.contains(&ValidationError::UnsupportedSchema { found: 2, supported: 1 }));
}

#[test]
fn unknown_permission_in_a_role() {
    let errors = errors_of(|m| role(m, "member").permissions.push("item.fly".parse().expect("rule")));
    assert!(
        errors.contains(&ValidationError::UnknownPermission { role: "member".into(), permission: "item.fly".into() })
    );
}

#[test]
fn wildcard_that_matches_nothing() {
    let errors = errors_of(|m| role(m, "member").permissions.push("rocket.*".parse().expect("rule")));
    assert!(
        errors.contains(&ValidationError::WildcardMatchesNothing { role: "member".into(), pattern: "rocket.*".into() })
    );
}

#[test]
fn manages_a_missing_role() {
    let errors = errors_of(|m| role(m, "owner").manages.push("ghost".into()));
    assert!(errors.contains(&ValidationError::UnknownManagedRole { role: "owner".into(), managed: "ghost".into() }));
}

#[test]
fn cycles_in_resource_types() {
    let errors = errors_of(|m| {
        m.resource_types.push(ResourceTypeDef {
            name: "x".into(),
            parent: Some("y".into()),
            account: false,
            description: String::new(),
        });
        m.resource_types.push(ResourceTypeDef {
            name: "y".into(),
            parent: Some("x".into()),
            account: false,
            description: String::new(),
        });
    });
    assert!(errors.contains(&ValidationError::ResourceTypeCycle(vec!["x".into(), "y".into()])), "{errors}");
}

#[test]
fn unknown_parent_type_and_root_rules() {
    let errors = errors_of(|m| m.resource_types[1].parent = Some("nowhere".into()));
    assert!(errors.contains(&ValidationError::UnknownParentType { ty: "item".into(), parent: "nowhere".into() }));
    let errors = errors_of(|m| m.resource_types[0].parent = Some("item".into()));
    assert!(errors.contains(&ValidationError::NoRootType));
    let errors = errors_of(|m| m.resource_types[1].parent = None);
    assert!(errors.contains(&ValidationError::MultipleRootTypes(vec!["account".into(), "item".into()])));
}

#[test]
fn duplicate_ids() {
    let errors = errors_of(|m| m.roles.push(m.roles[1].clone()));
    assert!(errors.contains(&ValidationError::DuplicateRole("member".into())));
    let errors =
        errors_of(|m| m.permissions.push(PermissionDef { id: "item.view".into(), description: String::new() }));
    assert!(errors.contains(&ValidationError::DuplicatePermission("item.view".into())));
    let errors = errors_of(|m| m.resource_types.push(m.resource_types[1].clone()));
    assert!(errors.contains(&ValidationError::DuplicateResourceType("item".into())));
}

#[test]
fn two_default_roles() {
    let errors = errors_of(|m| role(m, "owner").default = true);
    assert!(errors.contains(&ValidationError::MultipleDefaultRoles(vec!["owner".into(), "member".into()])));
}

#[test]
fn single_holder_and_transfer_flags() {
    let errors = errors_of(|m| role(m, "member").single_holder = true);
    assert!(errors.contains(&ValidationError::MultipleSingleHolderRoles(vec!["owner".into(), "member".into()])));
    let errors = errors_of(|m| role(m, "member").transferable = true);
    assert!(errors.contains(&ValidationError::TransferableWithoutSingleHolder("member".into())));
    let errors = errors_of(|m| role(m, "item_editor").default = true);
    assert!(
        errors.contains(&ValidationError::NotAnAccountRole { role: "item_editor".into(), flag: "default" }),
        "{errors}"
    );
}

#[test]
fn grantable_types_and_account_types_must_exist_and_be_usable() {
    let errors = errors_of(|m| role(m, "item_editor").grantable_on = vec!["galaxy".into()]);
    assert!(
        errors.contains(&ValidationError::UnknownGrantableType { role: "item_editor".into(), ty: "galaxy".into() })
    );
    let errors = errors_of(|m| {
        m.resource_types.push(ResourceTypeDef {
            name: "sub".into(),
            parent: Some("account".into()),
            account: true,
            description: String::new(),
        })
    });
    assert!(errors.contains(&ValidationError::AccountTypeWithoutRoles("sub".into())));
    let errors = errors_of(|m| {
        m.resource_types.push(ResourceTypeDef {
            name: "sub".into(),
            parent: Some("item".into()),
            account: true,
            description: String::new(),
        })
    });
    assert!(errors.contains(&ValidationError::AccountTypeUnderResource { ty: "sub".into(), parent: "item".into() }));
}

#[test]
fn ids_and_titles_must_be_well_formed() {
    let errors =
        errors_of(|m| m.permissions.push(PermissionDef { id: "Item View".into(), description: String::new() }));
    assert!(errors.0.iter().any(|e| matches!(e, ValidationError::BadId { what: "permission", .. })), "{errors}");
    let errors = errors_of(|m| m.id = "Demo Pack".into());
    assert!(errors.0.iter().any(|e| matches!(e, ValidationError::BadId { what: "pack", .. })));
    let errors = errors_of(|m| m.title = " ".into());
    assert!(errors.contains(&ValidationError::Empty { field: "title".into() }));
    let errors =
        errors_of(|m| m.permissions.push(PermissionDef { id: "member.fly".into(), description: String::new() }));
    assert!(errors.contains(&ValidationError::UnknownReservedPermission("member.fly".into())));
}

#[test]
fn policies_and_requirements_name_real_permissions() {
    let errors = errors_of(|m| m.policies.masquerade_permission = Some("person.masquerade".into()));
    assert!(errors.0.iter().any(|e| matches!(e, ValidationError::UnknownPolicyPermission { field, .. } if field == "policies.masquerade_permission")));
    let errors = errors_of(|m| role(m, "item_editor").grantee_requires = Some("item.lead".into()));
    assert!(errors.0.iter().any(
        |e| matches!(e, ValidationError::UnknownPolicyPermission { permission, .. } if permission == "item.lead")
    ));
}

#[test]
fn all_problems_are_reported_at_once() {
    let errors = errors_of(|m| {
        m.schema_version = 7;
        role(m, "member").permissions.push("item.fly".parse().expect("rule"));
        role(m, "owner").manages.push("ghost".into());
    });
    assert_eq!(errors.0.len(), 3, "{errors}");
}

#[test]
fn unknown_fields_are_rejected_when_parsing() {
    let text = good().to_json().replace("\"title\":\"Demo\"", "\"title\":\"Demo\",\"colour\":\"red\"");
    let error = PackManifest::from_json(&text).expect_err("unknown field");
    assert!(error.to_string().contains("unknown field `colour`"), "{error}");
}

#[test]
fn an_authzen_action_must_name_a_permission_of_the_pack() {
    let table = |actions: &[(&str, &str)], owner: &str| roster_core::manifest::AuthzenDef {
        actions: actions.iter().map(|(a, p)| ((*a).to_owned(), (*p).to_owned())).collect(),
        owner_property: owner.to_owned(),
        action_properties: Vec::new(),
    };
    let errors = errors_of(|m| m.authzen = Some(table(&[("fly", "item.fly")], "owner")));
    assert!(
        errors.contains(&ValidationError::AuthzenUnknownPermission {
            action: "fly".into(),
            permission: "item.fly".into()
        })
    );
    let errors = errors_of(|m| m.authzen = Some(table(&[], " ")));
    assert!(errors.contains(&ValidationError::Empty { field: "authzen.owner_property".into() }));
    let mut manifest = good();
    let permission = manifest.permissions[0].id.clone();
    manifest.authzen = Some(table(&[("can_do", &permission)], "created_by"));
    let pack = validate(manifest).expect("a table naming the pack's own permission is valid");
    assert_eq!(pack.authzen_permission("can_do", None), permission);
    assert_eq!(
        pack.authzen_permission("item.other", None),
        "item.other",
        "an action without an entry is a permission id"
    );
    assert_eq!(pack.authzen_actions(&permission), ["can_do"]);
    assert_eq!(pack.authzen_owner_property(), "created_by");
}

#[test]
fn an_action_property_entry_needs_a_known_permission_and_a_property_and_then_chooses_the_permission() {
    use roster_core::manifest::{ActionPropertiesDef, AuthzenDef};
    let entry = |properties: &[(&str, serde_json::Value)], permission: &str| ActionPropertiesDef {
        action: "delete".into(),
        properties: properties.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
        permission: permission.into(),
    };
    let table = |entries: Vec<ActionPropertiesDef>| AuthzenDef {
        actions: Default::default(),
        owner_property: "owner".into(),
        action_properties: entries,
    };
    let errors = errors_of(|m| m.authzen = Some(table(vec![entry(&[], "item.gone")])));
    assert!(errors.contains(&ValidationError::Empty { field: "authzen.action_properties.properties".into() }));
    assert!(errors.contains(&ValidationError::AuthzenPropertiesUnknownPermission {
        action: "delete".into(),
        permission: "item.gone".into()
    }));
    let mut manifest = good();
    let (soft, hard) = (manifest.permissions[0].id.clone(), manifest.permissions[1].id.clone());
    let soft_entry = entry(&[("soft", serde_json::json!(true)), ("reason", serde_json::json!("gdpr"))], &soft);
    manifest.authzen =
        Some(AuthzenDef { actions: [("delete".to_owned(), hard.clone())].into(), ..table(vec![soft_entry]) });
    let pack = validate(manifest).expect("valid");
    let properties = |value: serde_json::Value| value.as_object().cloned();
    let carried = properties(serde_json::json!({ "soft": true, "reason": "gdpr", "by": "ann" }));
    assert_eq!(pack.authzen_permission("delete", carried.as_ref()), soft, "every listed property, extra ones ignored");
    for other in [serde_json::json!({ "soft": true }), serde_json::json!({ "soft": "true", "reason": "gdpr" })] {
        assert_eq!(pack.authzen_permission("delete", properties(other).as_ref()), hard, "not every property matches");
    }
    assert_eq!(pack.authzen_permission("delete", None), hard);
    assert_eq!(pack.authzen_permission("remove", carried.as_ref()), "remove", "another action is not matched");
}
