//! For every pack, role and permission: the engine's decision matches the matrix cell —
//! `yes` allows, `no` denies, `if owner` / `if assigned` deny until the condition holds.

use roster_core::Operation;
use roster_e2e::{World, loaded_packs, matrix};

/// A world with a root account `acc` (owned by `founder`) and, on demand, one resource
/// per type (`T:plain`, `T:owned` owned by `p`, `T:assigned` with an assignment for `p`).
struct Fixture {
    world: World,
    pack: String,
}

impl Fixture {
    fn new(pack: &str) -> Fixture {
        let mut world = World::new();
        world.account("acc", pack, "founder");
        Fixture { world, pack: pack.to_owned() }
    }

    fn pack(&self) -> std::sync::Arc<roster_core::Pack> {
        roster_e2e::pack(&self.pack)
    }

    /// The child account for a child account type, created once.
    fn child_account(&mut self) -> String {
        if !self.world.engine.has_account("child") {
            self.world.setup(Operation::CreateAccount {
                id: "child".into(),
                pack: self.pack.clone(),
                parent: Some("acc".into()),
                owner: "client-owner".into(),
            });
        }
        "child".into()
    }

    /// Makes `p` an external member of `account` (once), in its lowest-ranked account role.
    fn external_member(&mut self, account: &str) {
        if self.world.engine.membership(account, "p").is_some() {
            return;
        }
        let pack = self.pack();
        let root = pack.root_type();
        let account_type = if account == "acc" {
            root
        } else {
            let child = pack.types().iter().position(|t| t.account && t.parent == Some(root));
            child.and_then(|t| u8::try_from(t).ok()).expect("a child account type")
        };
        let lowest = pack
            .roles()
            .iter()
            .filter(|r| r.grantable_on_type(account_type) && !r.single_holder)
            .min_by_key(|r| r.rank)
            .expect("an account role");
        self.world.external(account, "p", &lowest.id.clone());
    }

    /// Ensures resource `T:variant` exists; returns its account and name.
    fn resource(&mut self, ty: &str, variant: &str) -> (String, String) {
        let pack = self.pack();
        let t = pack.resource_type(ty).expect("type exists");
        let parent = pack.types()[usize::from(t)].parent.expect("not the root");
        let parent_info = &pack.types()[usize::from(parent)];
        let (account, parent_name) = if parent == pack.root_type() {
            ("acc".to_owned(), None)
        } else if parent_info.account {
            (self.child_account(), None)
        } else {
            // An owner's resources sit in ones they own too: ownership counts only where
            // the owner could still create the resource.
            let parent_variant = if variant == "owned" { "owned" } else { "plain" };
            let (account, name) = self.resource(&parent_info.name.clone(), parent_variant);
            (account, Some(name))
        };
        let name = format!("{ty}:{variant}");
        if !self.world.engine.has_resource(&account, &name) {
            let owner = (variant == "owned").then_some("p");
            self.world.resource(&account, &name, parent_name.as_deref(), owner);
        }
        (account, name)
    }

    /// Puts `p` in `role`; returns who holds it and where to check.
    fn place(&mut self, role_id: &str) -> (String, String, Option<String>) {
        let pack = self.pack();
        let role = &pack.roles()[usize::from(pack.role(role_id).expect("role exists"))];
        let root = pack.root_type();
        if role.grantable_on_type(root) {
            if role.single_holder {
                return ("founder".into(), "acc".into(), None);
            }
            self.world.member("acc", "p", role_id);
            return ("p".into(), "acc".into(), None);
        }
        let ty = (0..pack.types().len()).find(|&t| role.grantable_on_type(t as u8)).expect("grantable somewhere");
        let info = pack.types()[ty].clone();
        if info.account {
            let child = self.child_account();
            self.world.member(&child, "p", role_id);
            return ("p".into(), child, None);
        }
        let (account, name) = self.resource(&info.name, "plain");
        // Applied directly: this test is about what a role gives, not who may hand it out
        // (a role with `grantee_requires` would otherwise need the prerequisite first).
        // `p` is an external member: a grant counts for a member, and an external
        // member's account role gives nothing, so the grant alone decides.
        self.external_member(&account);
        self.world.apply(roster_core::Change::AddGrant {
            id: "g-place".into(),
            account: account.clone(),
            subject: roster_core::Subject::Principal("p".into()),
            resource: Some(name.clone()),
            role: role_id.into(),
            expires_at: None,
        });
        ("p".into(), account, Some(name))
    }

    /// A resource where `condition` holds for `p`, of the type the permission names
    /// (or the deepest type when the prefix is not a type).
    fn where_condition_holds(&mut self, permission: &str, condition: &str) -> (String, String) {
        let pack = self.pack();
        let prefix = permission.split('.').next().unwrap_or_default();
        let ty = pack
            .resource_type(prefix)
            .filter(|&t| !pack.types()[usize::from(t)].account)
            .map(|t| pack.types()[usize::from(t)].name.clone())
            .or_else(|| pack.types().iter().rev().find(|t| !t.account).map(|t| t.name.clone()))
            .expect("pack has a resource type");
        match condition {
            "if owner" => self.resource(&ty, "owned"),
            "if assigned" => {
                let (account, name) = self.resource(&ty, "assigned");
                let t = pack.resource_type(&ty).expect("type exists");
                let assignment = pack
                    .roles()
                    .iter()
                    .filter(|r| r.grantable_on_type(t) && r.grantee_requires.is_none())
                    .min_by_key(|r| r.always.iter().count())
                    .expect("some role is grantable where `assigned` is used");
                self.world.grant("g-assign", &account, "principal:p", Some(&name), &assignment.id.clone());
                (account, name)
            }
            other => panic!("unexpected cell {other}"),
        }
    }
}

#[test]
fn every_pack_role_and_permission_decides_as_its_matrix_says() {
    let mut checked = 0;
    for loaded in loaded_packs() {
        let id = loaded.pack.id();
        let m = matrix(id);
        for role in &m.roles {
            for row in &m.rows {
                let cell = m.cell(role, &row.permission).expect("cell exists");
                let mut fixture = Fixture::new(id);
                let (holder, account, resource) = fixture.place(role);
                let allowed = fixture.world.can(&account, &holder, &row.permission, resource.as_deref());
                match cell {
                    "yes" => assert!(allowed, "{id}: {role} should hold {} ({cell})", row.permission),
                    "no" => assert!(!allowed, "{id}: {role} should not hold {} ({cell})", row.permission),
                    conditional => {
                        assert!(
                            !allowed,
                            "{id}: {role} holds {} only {conditional}, not at {account}/{resource:?}",
                            row.permission
                        );
                        let (account, target) = fixture.where_condition_holds(&row.permission, conditional);
                        assert!(
                            fixture.world.can(&account, &holder, &row.permission, Some(&target)),
                            "{id}: {role} should hold {} on {target} ({conditional})",
                            row.permission
                        );
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "expected every pack's full matrix, checked {checked} cells");
}
