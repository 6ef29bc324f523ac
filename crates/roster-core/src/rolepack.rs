//! What a role pack provides, as traits: its permissions, its roles, and the manifest the
//! engine compiles. A pack is data at the plugin boundary (manifest JSON); these traits
//! are how Rust code names a pack's parts: TOML packs and plain manifests implement them
//! with strings, and `roster-packgen` generates typed enums from a `pack.toml` so a pack
//! written in Rust (and tests) name permissions and roles with compile-time checks.

use crate::manifest::{PackManifest, PermissionDef, RoleDef};

/// A permission a pack defines (`pickaxe.edit`).
pub trait Permission {
    /// The permission's id, as requests and stored custom roles name it.
    fn id(&self) -> &str;
}

/// A role a pack defines (`owner`).
pub trait Role {
    /// The role's id, as memberships, grants and invites name it.
    fn id(&self) -> &str;
    /// The role's human title.
    fn title(&self) -> &str;
    /// Its rank: higher is more powerful.
    fn rank(&self) -> u32;
}

/// A role pack: one product's role vocabulary.
pub trait RolePack {
    /// The pack's permissions.
    type Permission: Permission;
    /// The pack's roles.
    type Role: Role;

    /// The pack's stable id (`studio`).
    fn id(&self) -> &str;
    /// The pack's own version.
    fn version(&self) -> &str;
    /// Every permission, in the manifest's order.
    fn permissions(&self) -> &[Self::Permission];
    /// Every role, in the manifest's order.
    fn roles(&self) -> &[Self::Role];
    /// The manifest the daemon loads (what crosses the plugin boundary, as JSON).
    fn manifest(&self) -> Result<PackManifest, ManifestError>;

    /// The pack as the engine uses it: its manifest, checked against its typed names
    /// ([`consistent_manifest`]) and validated as the daemon validates a loaded pack.
    fn compile(&self) -> Result<crate::Pack, CompileError> {
        Ok(crate::validate(consistent_manifest(self)?)?)
    }
}

/// A pack that cannot be compiled.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// Its manifest could not be produced, or disagrees with its typed names.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// Its manifest does not validate.
    #[error("the pack is not valid:\n{0}")]
    Invalid(#[from] crate::ValidationErrors),
}

/// A pack's manifest could not be produced.
#[derive(Debug, thiserror::Error)]
#[error("the pack's manifest cannot be read: {0}")]
pub struct ManifestError(pub String);

impl Permission for PermissionDef {
    fn id(&self) -> &str {
        &self.id
    }
}

impl Role for RoleDef {
    fn id(&self) -> &str {
        &self.id
    }

    fn title(&self) -> &str {
        &self.title
    }

    fn rank(&self) -> u32 {
        self.rank
    }
}

/// A manifest is a pack: the data form every other implementation produces.
impl RolePack for PackManifest {
    type Permission = PermissionDef;
    type Role = RoleDef;

    fn id(&self) -> &str {
        &self.id
    }

    fn version(&self) -> &str {
        &self.version
    }

    fn permissions(&self) -> &[PermissionDef] {
        &self.permissions
    }

    fn roles(&self) -> &[RoleDef] {
        &self.roles
    }

    fn manifest(&self) -> Result<PackManifest, ManifestError> {
        Ok(self.clone())
    }
}

/// Checks that a pack's typed view agrees with its manifest: the same id and version, and
/// the same permission and role ids in the same order. A pack whose enums and manifest
/// drifted apart would make compile-time names lie about what the daemon enforces.
pub fn consistent_manifest<P: RolePack + ?Sized>(pack: &P) -> Result<PackManifest, ManifestError> {
    let manifest = pack.manifest()?;
    let mismatch = |what: &str, typed: String, data: String| {
        ManifestError(format!("pack `{}`: its {what} are {typed} but its manifest says {data}", manifest.id))
    };
    if pack.id() != manifest.id || pack.version() != manifest.version {
        return Err(mismatch(
            "id and version",
            format!("{} {}", pack.id(), pack.version()),
            format!("{} {}", manifest.id, manifest.version),
        ));
    }
    let typed: Vec<&str> = pack.permissions().iter().map(Permission::id).collect();
    let data: Vec<&str> = manifest.permissions.iter().map(|p| p.id.as_str()).collect();
    if typed != data {
        return Err(mismatch("permissions", typed.join(", "), data.join(", ")));
    }
    let typed: Vec<(&str, u32)> = pack.roles().iter().map(|r| (r.id(), r.rank())).collect();
    let data: Vec<(&str, u32)> = manifest.roles.iter().map(|r| (r.id.as_str(), r.rank)).collect();
    if typed != data {
        let show = |roles: &[(&str, u32)]| roles.iter().map(|(id, rank)| format!("{id}@{rank}")).collect::<Vec<_>>();
        return Err(mismatch("roles", show(&typed).join(", "), show(&data).join(", ")));
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{PermissionRule, ResourceTypeDef};

    /// A hand-written typed pack whose enum lists a permission the manifest lacks.
    struct Drifted;

    #[derive(Clone, Copy)]
    struct Perm(&'static str);

    impl Permission for Perm {
        fn id(&self) -> &str {
            self.0
        }
    }

    fn manifest() -> PackManifest {
        PackManifest {
            schema_version: crate::SCHEMA_VERSION,
            id: "tiny".into(),
            version: "1.0.0".into(),
            title: "Tiny".into(),
            description: String::new(),
            resource_types: vec![ResourceTypeDef {
                name: "doc".into(),
                parent: None,
                account: true,
                description: String::new(),
            }],
            permissions: vec![PermissionDef { id: "doc.view".into(), description: String::new() }],
            roles: vec![RoleDef::new("reader", "Reader", 1, vec![PermissionRule::always("doc.view")])],
            policies: Default::default(),
            authzen: None,
        }
    }

    impl RolePack for Drifted {
        type Permission = Perm;
        type Role = RoleDef;

        fn id(&self) -> &str {
            "tiny"
        }

        fn version(&self) -> &str {
            "1.0.0"
        }

        fn permissions(&self) -> &[Perm] {
            &[Perm("doc.view"), Perm("doc.edit")]
        }

        fn roles(&self) -> &[RoleDef] {
            &[]
        }

        fn manifest(&self) -> Result<PackManifest, ManifestError> {
            Ok(manifest())
        }
    }

    #[test]
    fn a_manifest_is_consistent_with_itself_and_compiles() {
        let manifest = manifest();
        assert_eq!(consistent_manifest(&manifest).expect("consistent"), manifest);
        let pack = manifest.compile().expect("compiles");
        assert!(pack.permission("doc.view").is_some());
    }

    #[test]
    fn typed_names_that_drifted_from_the_manifest_are_refused_with_both_lists() {
        let error = consistent_manifest(&Drifted).expect_err("drifted").to_string();
        assert!(error.contains("doc.view, doc.edit") && error.contains("says doc.view"), "{error}");
        assert!(matches!(Drifted.compile(), Err(CompileError::Manifest(_))));
    }
}
