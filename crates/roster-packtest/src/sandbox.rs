//! A sandbox for a pack's Rust tests: an engine with one pack, fixtures written as stored
//! changes (as a test file's fixtures are), questions and operations named through the
//! pack's typed names. Setup steps panic naming the step and the reason: this is test
//! support, and a fixture the engine refuses is a broken test.

use std::marker::PhantomData;
use std::sync::Arc;

use roster_core::engine::MembershipStatus;
use roster_core::{Actor, Change, Engine, ManagementError, Operation, Permission, Role, RolePack};

/// The time every sandbox question and operation is asked at (unix seconds): a test
/// file's default `now`.
pub const NOW: i64 = crate::file::DEFAULT_NOW;

/// An engine holding one pack `P`; its questions and fixtures take `P`'s own typed names
/// (another pack's `Permission` does not compile here, even one with the same id).
pub struct Sandbox<P: RolePack> {
    engine: Engine,
    pack: String,
    names: PhantomData<fn() -> P>,
}

impl<P: RolePack> Sandbox<P> {
    /// An empty engine with `pack`, compiled as the daemon compiles a loaded pack.
    #[track_caller]
    pub fn new(pack: &P) -> Sandbox<P> {
        match pack.compile() {
            Ok(compiled) => {
                Sandbox { pack: pack.id().to_owned(), engine: Engine::new([Arc::new(compiled)]), names: PhantomData }
            }
            Err(error) => panic!("pack `{}` does not compile: {error}", pack.id()),
        }
    }

    #[track_caller]
    fn put(&mut self, change: Change) -> &mut Self {
        let described = format!("{change:?}");
        if let Err(error) = self.engine.apply(change) {
            panic!("fixture {described}: {error}");
        }
        self
    }

    /// An account of the pack (a child account under `parent`), with no members.
    #[track_caller]
    pub fn account(&mut self, id: &str, parent: Option<&str>) -> &mut Self {
        let pack = self.pack.clone();
        self.put(Change::CreateAccount { id: id.into(), pack, parent: parent.map(Into::into) })
    }

    /// Active members of `account`, each with a role.
    #[track_caller]
    pub fn members(&mut self, account: &str, members: &[(&str, P::Role)]) -> &mut Self {
        for (principal, role) in members {
            self.put(Change::PutMembership {
                account: account.into(),
                principal: (*principal).into(),
                role: role.id().into(),
                external: false,
                status: MembershipStatus::Active,
                expires_at: None,
            });
        }
        self
    }

    /// A resource of `account` (`pickaxe:42`), under `parent` or the account, owned by
    /// `owner` if given.
    #[track_caller]
    pub fn resource(
        &mut self,
        account: &str,
        resource: String,
        parent: Option<String>,
        owner: Option<&str>,
    ) -> &mut Self {
        self.put(Change::AddResource { account: account.into(), resource, parent, owner: owner.map(Into::into) })
    }

    /// May `principal` do `permission` in `account` (on `resource`)? A question the engine
    /// cannot answer (an unknown account) panics.
    #[track_caller]
    pub fn can(&self, account: &str, principal: &str, permission: P::Permission, resource: Option<&str>) -> bool {
        match self.engine.check(account, principal, permission.id(), resource, NOW) {
            Ok(decision) => decision.allowed,
            Err(error) => panic!("cannot ask about `{}` in `{account}`: {error}", permission.id()),
        }
    }

    /// Runs `operation` as `principal`.
    pub fn act(&mut self, principal: &str, operation: &Operation) -> Result<u64, ManagementError> {
        self.engine.execute(&Actor::Principal(principal.into()), operation, NOW)
    }

    /// The engine, for anything else.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

/// Asserts that `result` is a refusal for lacking `missing`.
#[track_caller]
pub fn assert_lacks(result: Result<u64, ManagementError>, missing: impl Permission) {
    let refused =
        matches!(&result, Err(ManagementError::MissingPermission { permission, .. }) if permission == missing.id());
    assert!(refused, "expected a refusal for lacking {}, got {result:?}", missing.id());
}
