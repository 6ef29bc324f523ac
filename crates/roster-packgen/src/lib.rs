//! Generates typed Rust names for a role pack from its `pack.toml`: `Permission`, `Role`
//! and `ResourceType` enums and a unit `Pack` implementing roster-core's [`RolePack`], so
//! Rust code names `Permission::PickaxeUse` (a typo does not compile) instead of
//! `"pickaxe.use"` (a typo is a silent deny).
//!
//! Used from a build script:
//!
//! ```text
//! // build.rs
//! fn main() {
//!     roster_packgen::build_script("pack.toml");
//! }
//! ```
//!
//! and in the crate (which depends on `roster-plugin`, the SDK the generated code names
//! the core through): `include!(concat!(env!("OUT_DIR"), "/pack.rs"));`. The pack is
//! validated as the daemon validates it, so a broken `pack.toml` fails the build with the
//! same messages `rosterd packs validate` prints.
//!
//! [`RolePack`]: roster_core::RolePack

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use heck::ToUpperCamelCase;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use roster_core::PackManifest;

/// Why a pack's names could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// The manifest file could not be read or the output written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The manifest is not valid TOML for the schema.
    #[error("{path}: {source}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// The parser's message, with the line.
        source: Box<toml::de::Error>,
    },
    /// The pack does not pass the daemon's validation.
    #[error("pack `{pack}` is not valid:\n{errors}")]
    Invalid {
        /// The pack id.
        pack: String,
        /// Every problem, one per line.
        errors: roster_core::ValidationErrors,
    },
    /// Two ids give the same Rust name, or an id gives none.
    #[error("pack `{pack}`: {problem}")]
    Names {
        /// The pack id.
        pack: String,
        /// What collided or cannot be a name.
        problem: String,
    },
    /// The generated code did not parse (a bug in the generator).
    #[error("the generated code does not parse: {0}")]
    Generated(#[from] syn::Error),
}

/// A build script's whole body: [`build`], and on failure the error as the validator
/// words it (not its `Debug` form) and exit code 1, which fails the build.
pub fn build_script(manifest: impl AsRef<Path>) {
    if let Err(error) = build(manifest) {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

/// For a build script: reads `manifest` (relative to the crate's directory), writes the
/// typed names to `$OUT_DIR/pack.rs` and asks cargo to rerun when the manifest changes.
pub fn build(manifest: impl AsRef<Path>) -> Result<(), GenError> {
    let var = |name: &str| {
        std::env::var_os(name).map(PathBuf::from).ok_or_else(|| GenError::Io {
            path: PathBuf::from(format!("${name}")),
            source: std::io::Error::other("not set: run from a build script, or call `generate`"),
        })
    };
    let (crate_dir, out_dir) = (var("CARGO_MANIFEST_DIR")?, var("OUT_DIR")?);
    let path = crate_dir.join(manifest.as_ref());
    println!("cargo:rerun-if-changed={}", path.display());
    generate(&path, &out_dir.join("pack.rs"))
}

/// Reads the pack at `manifest` and writes its typed names to `out`.
pub fn generate(manifest: &Path, out: &Path) -> Result<(), GenError> {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> GenError + '_ {
        move |source| GenError::Io { path: path.to_owned(), source }
    }
    let text = std::fs::read_to_string(manifest).map_err(io(manifest))?;
    let parsed: PackManifest = toml::from_str(&text)
        .map_err(|source| GenError::Toml { path: manifest.to_owned(), source: Box::new(source) })?;
    let code = render(&parsed)?;
    // Rewrite only on change, so dependants are not rebuilt for nothing.
    if std::fs::read_to_string(out).ok().as_deref() != Some(code.as_str()) {
        std::fs::write(out, code).map_err(io(out))?;
    }
    Ok(())
}

/// The typed names of a pack, as Rust source (items only, for `include!`).
pub fn render(manifest: &PackManifest) -> Result<String, GenError> {
    let pack = manifest.id.clone();
    roster_core::validate(manifest.clone()).map_err(|errors| GenError::Invalid { pack: pack.clone(), errors })?;
    let names = |what: &str, ids: Vec<&str>| {
        variants(what, &ids).map_err(|problem| GenError::Names { pack: pack.clone(), problem })
    };
    let permissions = names("permission", manifest.permissions.iter().map(|p| p.id.as_str()).collect())?;
    let roles = names("role", manifest.roles.iter().map(|r| r.id.as_str()).collect())?;
    let types = names("resource type", manifest.resource_types.iter().map(|t| t.name.as_str()).collect())?;

    let permission_enum = id_enum(
        "Permission",
        &format!("A permission of pack `{pack}`."),
        &permissions,
        manifest.permissions.iter().map(|p| (p.id.as_str(), p.description.as_str())),
    );
    let role_enum = id_enum(
        "Role",
        &format!("A role of pack `{pack}`."),
        &roles,
        manifest.roles.iter().map(|r| (r.id.as_str(), r.description.as_str())),
    );
    let type_enum = id_enum(
        "ResourceType",
        &format!("A resource type of pack `{pack}`."),
        &types,
        manifest.resource_types.iter().map(|t| (t.name.as_str(), t.description.as_str())),
    );
    let titles = manifest.roles.iter().map(|r| r.title.as_str());
    let ranks = manifest.roles.iter().map(|r| proc_macro2::Literal::u32_unsuffixed(r.rank));
    let role_arms = roles.iter().zip(titles.zip(ranks)).map(|(v, (title, rank))| (v, title, rank));
    let title_arms = role_arms.clone().map(|(v, title, _)| quote! { Role::#v => #title });
    let rank_arms = role_arms.map(|(v, _, rank)| quote! { Role::#v => #rank });
    let (id, version) = (&manifest.id, &manifest.version);
    let json = manifest.to_json();
    let pack_doc = format!("Role pack `{pack}` {version}: its typed names and its manifest.");

    let tokens = quote! {
        #permission_enum
        #role_enum
        #type_enum

        impl ::roster_plugin::roster_core::Permission for Permission {
            fn id(&self) -> &str {
                Permission::id(*self)
            }
        }

        impl Role {
            /// The role's human title.
            pub const fn title(self) -> &'static str {
                match self { #(#title_arms,)* }
            }

            /// The role's rank: higher is more powerful.
            pub const fn rank(self) -> u32 {
                match self { #(#rank_arms,)* }
            }
        }

        impl ::roster_plugin::roster_core::Role for Role {
            fn id(&self) -> &str {
                Role::id(*self)
            }

            fn title(&self) -> &str {
                Role::title(*self)
            }

            fn rank(&self) -> u32 {
                Role::rank(*self)
            }
        }

        impl ResourceType {
            /// The name of the resource `id` of this type (`pickaxe:42`).
            pub fn resource(self, id: &str) -> ::std::string::String {
                ::std::format!("{}:{}", self.id(), id)
            }
        }

        #[doc = #pack_doc]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct Pack;

        impl Pack {
            /// The pack's id.
            pub const ID: &'static str = #id;
            /// The pack's version.
            pub const VERSION: &'static str = #version;
            /// The manifest, as validated when these names were generated.
            pub const MANIFEST_JSON: &'static str = #json;
        }

        impl ::roster_plugin::roster_core::RolePack for Pack {
            type Permission = Permission;
            type Role = Role;

            fn id(&self) -> &str {
                Pack::ID
            }

            fn version(&self) -> &str {
                Pack::VERSION
            }

            fn permissions(&self) -> &[Permission] {
                &Permission::ALL
            }

            fn roles(&self) -> &[Role] {
                &Role::ALL
            }

            fn manifest(&self) -> ::core::result::Result<::roster_plugin::roster_core::PackManifest, ::roster_plugin::roster_core::ManifestError> {
                ::roster_plugin::roster_core::PackManifest::from_json(Pack::MANIFEST_JSON)
                    .map_err(|e| ::roster_plugin::roster_core::ManifestError(e.to_string()))
            }
        }
    };
    let file = syn::parse2::<syn::File>(tokens)?;
    let header = format!(
        "// Typed names of role pack `{pack}` {version}, generated by roster-packgen from its pack.toml.\n// Do not edit: change pack.toml and rebuild.\n\n"
    );
    Ok(header + &prettyplease::unparse(&file))
}

/// Rust variant names for `ids`, in order: `pickaxe.use` → `PickaxeUse`. Two ids with one
/// name, or an id that makes no name, is an error naming them.
fn variants(what: &str, ids: &[&str]) -> Result<Vec<Ident>, String> {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    let mut names = Vec::with_capacity(ids.len());
    for id in ids {
        let name = id.to_upper_camel_case();
        let starts_well = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        // `ALL` is the generated list of every variant.
        if !starts_well || name == "Self" || name == "ALL" || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("{what} `{id}` does not make a Rust name (got `{name}`); rename it"));
        }
        if let Some(other) = seen.insert(name.clone(), id) {
            return Err(format!("{what}s `{other}` and `{id}` both make the Rust name `{name}`; rename one"));
        }
        names.push(Ident::new(&name, Span::call_site()));
    }
    Ok(names)
}

/// An enum of ids: the variants, `ALL`, `id()`, `from_id()`, `Display`, `AsRef<str>` and
/// `From<_> for String` (so a typed name goes wherever the API takes a string).
fn id_enum<'a>(
    name: &str,
    doc: &str,
    variants: &[Ident],
    ids: impl Iterator<Item = (&'a str, &'a str)>,
) -> TokenStream {
    let ty = Ident::new(name, Span::call_site());
    let (ids, docs): (Vec<&str>, Vec<String>) = ids
        .map(|(id, description)| {
            let doc = if description.is_empty() { format!("`{id}`.") } else { format!("`{id}`: {description}") };
            (id, doc)
        })
        .unzip();
    let count = proc_macro2::Literal::usize_unsuffixed(variants.len());
    quote! {
        // No `Ord`: the order of declaration is not the order of rank, and a comparison
        // of roles that compiled but read the file order would be a silent bug.
        #[doc = #doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum #ty {
            #( #[doc = #docs] #variants, )*
        }

        impl #ty {
            /// Every one, in the manifest's order.
            pub const ALL: [#ty; #count] = [#(#ty::#variants),*];

            /// The id the API and the stored data use.
            pub const fn id(self) -> &'static str {
                match self { #(#ty::#variants => #ids,)* }
            }

            /// The one with this id, if the pack defines it.
            pub fn from_id(id: &str) -> ::core::option::Option<#ty> {
                match id {
                    #(#ids => ::core::option::Option::Some(#ty::#variants),)*
                    _ => ::core::option::Option::None,
                }
            }
        }

        impl ::core::fmt::Display for #ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.id())
            }
        }

        impl ::core::convert::AsRef<str> for #ty {
            fn as_ref(&self) -> &str {
                self.id()
            }
        }

        impl ::core::convert::From<#ty> for ::std::string::String {
            fn from(value: #ty) -> ::std::string::String {
                ::std::string::String::from(value.id())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(permissions: &[&str]) -> PackManifest {
        let permissions: Vec<String> = permissions.iter().map(|p| format!("[[permissions]]\nid = \"{p}\"\n")).collect();
        let text = format!(
            "schema_version = 1\nid = \"tiny\"\nversion = \"1.0.0\"\ntitle = \"Tiny\"\n\n[[resource_types]]\nname = \"team\"\n\n[[resource_types]]\nname = \"doc\"\nparent = \"team\"\n\n{}\n[[roles]]\nid = \"doc_reader\"\ntitle = \"Reader\"\nrank = 1\npermissions = [\"doc.view\"]\n",
            permissions.join("\n")
        );
        toml::from_str(&text).expect("test manifest")
    }

    #[test]
    fn a_pack_gives_enums_with_its_ids_and_a_role_pack() {
        let code = render(&manifest(&["doc.view", "doc.edit"])).expect("renders");
        for expected in [
            "pub enum Permission",
            "DocView",
            "Permission::DocEdit => \"doc.edit\"",
            "Role::DocReader => \"doc_reader\"",
            "ResourceType::Team => \"team\"",
            "impl ::roster_plugin::roster_core::RolePack for Pack",
            "pub const ALL: [Permission; 2]",
        ] {
            assert!(code.contains(expected), "missing `{expected}` in:\n{code}");
        }
    }

    #[test]
    fn ids_that_make_the_same_rust_name_are_refused_naming_both() {
        let error =
            render(&manifest(&["doc.view", "doc.view_all", "doc_view.all"])).expect_err("collision").to_string();
        assert!(error.contains("`doc.view_all` and `doc_view.all` both make the Rust name `DocViewAll`"), "{error}");
    }

    #[test]
    fn an_invalid_pack_fails_with_the_validators_messages() {
        let mut broken = manifest(&["doc.view"]);
        broken.roles[0].manages.push("nobody".into());
        let error = render(&broken).expect_err("invalid").to_string();
        assert!(error.contains("pack `tiny` is not valid") && error.contains("nobody"), "{error}");
    }
}
