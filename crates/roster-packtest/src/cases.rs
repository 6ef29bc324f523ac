//! Runs one case against the fixtures: its `given` steps on a copy, then its question,
//! and compares the answer with what the case expects.

use std::borrow::Cow;
use std::collections::BTreeSet;

use roster_core::{Actor, Engine, Operation, Via};

use crate::file::{Case, OperationSpec, Step};
use crate::fixtures::{role_def, subject};

/// What became of a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The answer is what the case expects.
    Passed,
    /// The answer differs: what was expected, what came, and a line diff where the
    /// answer is a list.
    Failed {
        /// What the case expects.
        expected: String,
        /// What the engine answered.
        actual: String,
        /// Expected against actual, line by line, for lists and matrices.
        diff: Option<String>,
    },
    /// The case cannot be asked as written (a typo in a name, two questions, a step that
    /// was refused): a failure of the file, not of the pack.
    Invalid(String),
}

/// The case's name: its own, or one made from its question.
pub fn name_of(case: &Case) -> String {
    if let Some(name) = &case.name {
        return name.clone();
    }
    let on = |resource: &Option<String>| resource.as_deref().map_or(String::new(), |r| format!(" on {r}"));
    if let Some(c) = &case.check {
        return format!(
            "{} {} {}{}",
            c.principal,
            case.expect.as_deref().unwrap_or("?"),
            c.permission,
            on(&c.resource)
        );
    }
    if let Some(op) = &case.operation {
        let actor = case.actor.as_deref().unwrap_or("platform");
        return format!("{actor}: {} {}", operation_word(op), case.expect.as_deref().unwrap_or("?"));
    }
    if let Some(p) = &case.permissions {
        return format!("permissions of {}{}", p.principal, on(&p.resource));
    }
    if let Some(r) = &case.roles {
        return format!("roles of {}{}", r.principal, on(&r.resource));
    }
    if let Some(l) = &case.lookup {
        return format!("{} {} on {} resources", l.principal, l.permission, l.ty);
    }
    if let Some(s) = &case.subjects {
        return format!("who holds {}{}", s.permission, on(&s.resource));
    }
    "a case with no question".to_owned()
}

/// What every case of a file shares.
#[derive(Clone, Copy, Debug)]
pub struct Setting<'a> {
    /// The file's pack id (new accounts use it).
    pub pack: &'a str,
    /// Stands in for an omitted `account`: the file's first account.
    pub default_account: Option<&'a str>,
    /// The time the cases run at.
    pub now: i64,
}

impl Setting<'_> {
    /// The account a question names, or the file's first.
    fn account(&self, named: &Option<String>) -> Asked<String> {
        named
            .clone()
            .or_else(|| self.default_account.map(str::to_owned))
            .ok_or_else(|| "no `account` named and the file has no accounts".to_owned())
    }
}

/// Runs `case` on `engine` (the fixtures).
pub fn run(engine: &Engine, case: &Case, setting: Setting<'_>) -> Outcome {
    match run_checked(engine, case, setting) {
        Ok(outcome) => outcome,
        Err(message) => Outcome::Invalid(message),
    }
}

type Asked<T> = Result<T, String>;

fn run_checked(engine: &Engine, case: &Case, setting: Setting<'_>) -> Asked<Outcome> {
    let now = setting.now;
    let questions = [
        case.check.is_some(),
        case.operation.is_some(),
        case.permissions.is_some(),
        case.roles.is_some(),
        case.lookup.is_some(),
        case.subjects.is_some(),
    ];
    match questions.iter().filter(|&&q| q).count() {
        1 => {}
        0 => {
            return Err(
                "the case asks nothing: give one of `check`, `do`, `permissions`, `roles`, `lookup`, `subjects`".into(),
            );
        }
        _ => return Err("the case asks more than one question: split it into cases".into()),
    }
    if case.actor.is_some() && case.operation.is_none() {
        return Err("`as` names the actor of `do`; a check names its `principal`".into());
    }
    let account = |named: &Option<String>| setting.account(named);
    let engine: Cow<'_, Engine> = if case.given.is_empty() {
        Cow::Borrowed(engine)
    } else {
        let mut copy = engine.clone();
        for (n, step) in case.given.iter().enumerate() {
            carry_out(&mut copy, step, setting).map_err(|e| format!("given step {}: {e}", n + 1))?;
        }
        Cow::Owned(copy)
    };
    let engine = engine.as_ref();

    if let Some(c) = &case.check {
        let account = account(&c.account)?;
        known_principal(engine, &c.principal)?;
        let decision = engine
            .check(&account, &c.principal, &c.permission, c.resource.as_deref(), now)
            .map_err(|e| e.to_string())?;
        let expected = expectation(case, &["allowed", "denied"])?;
        no_list_expectations(case)?;
        let actual = if decision.allowed { "allowed" } else { "denied" };
        let explanation = engine
            .explain(&account, &c.principal, &c.permission, c.resource.as_deref(), now)
            .map_err(|e| e.to_string())?;
        let summary = explanation.summary.clone();
        if expected != actual {
            return Ok(failed(expected, format!("{actual}: {summary}")));
        }
        let text = explanation_text(&explanation);
        let missing: Vec<&String> = case.because.iter().filter(|b| !text.contains(b.as_str())).collect();
        if !missing.is_empty() {
            let wanted = missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ");
            return Ok(failed(format!("{expected}, because of {wanted}"), format!("{actual}: {text}")));
        }
        return Ok(Outcome::Passed);
    }

    if let Some(op) = &case.operation {
        no_list_expectations(case)?;
        if !case.because.is_empty() {
            return Err("`because` belongs to a `check`".into());
        }
        let expected = expectation(case, &["allowed", "refused"])?;
        if expected == "allowed" && (case.code.is_some() || case.message.is_some()) {
            return Err("`code` and `message` describe a refusal: expect `refused`".into());
        }
        let actor = actor_of(case.actor.as_deref());
        let operation = operation(op, setting)?;
        return Ok(match (engine.plan(&actor, &operation, now), expected) {
            (Ok(_), "allowed") => Outcome::Passed,
            (Ok(_), _) => failed(refusal_text(case), "allowed".to_owned()),
            (Err(e), "allowed") => failed("allowed".to_owned(), format!("refused ({}): {e}", e.kind().code())),
            (Err(e), _) => {
                let code_ok = case.code.as_deref().is_none_or(|c| c == e.kind().code());
                let message = e.to_string();
                let message_ok = case.message.as_deref().is_none_or(|m| message.contains(m));
                if code_ok && message_ok {
                    Outcome::Passed
                } else {
                    failed(refusal_text(case), format!("refused ({}): {message}", e.kind().code()))
                }
            }
        });
    }

    no_single_expectations(case)?;
    let answer: Vec<String> = if let Some(p) = &case.permissions {
        let account = account(&p.account)?;
        known_principal(engine, &p.principal)?;
        engine
            .effective_permissions(&account, &p.principal, p.resource.as_deref(), now)
            .map_err(|e| e.to_string())?
            .permissions
    } else if let Some(r) = &case.roles {
        let account = account(&r.account)?;
        known_principal(engine, &r.principal)?;
        engine
            .effective_permissions(&account, &r.principal, r.resource.as_deref(), now)
            .map_err(|e| e.to_string())?
            .roles
    } else if let Some(l) = &case.lookup {
        let account = account(&l.account)?;
        known_principal(engine, &l.principal)?;
        engine.lookup_resources(&account, &l.principal, &l.permission, &l.ty, now).map_err(|e| e.to_string())?
    } else if let Some(s) = &case.subjects {
        let account = account(&s.account)?;
        engine.lookup_subjects(&account, &s.permission, s.resource.as_deref(), now).map_err(|e| e.to_string())?
    } else {
        return Err("the case asks nothing".into());
    };
    Ok(compare_list(case, answer))
}

/// Compares a list answer with `exactly`, `includes` and `excludes`.
fn compare_list(case: &Case, answer: Vec<String>) -> Outcome {
    let got: BTreeSet<String> = answer.into_iter().collect();
    if let Some(exactly) = &case.exactly {
        let want: BTreeSet<String> = exactly.iter().cloned().collect();
        if want != got {
            return Outcome::Failed {
                expected: list(&want),
                actual: list(&got),
                diff: Some(crate::report::line_diff(&lines(&want), &lines(&got))),
            };
        }
    }
    let missing: Vec<&String> = case.includes.iter().filter(|i| !got.contains(*i)).collect();
    let present: Vec<&String> = case.excludes.iter().filter(|e| got.contains(*e)).collect();
    if missing.is_empty() && present.is_empty() {
        return Outcome::Passed;
    }
    let mut expected = Vec::new();
    if !missing.is_empty() {
        expected.push(format!("including {}", missing.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")));
    }
    if !present.is_empty() {
        expected.push(format!("without {}", present.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")));
    }
    Outcome::Failed { expected: expected.join("; "), actual: list(&got), diff: None }
}

fn list(items: &BTreeSet<String>) -> String {
    if items.is_empty() { "(nothing)".to_owned() } else { items.iter().cloned().collect::<Vec<_>>().join(", ") }
}

fn lines(items: &BTreeSet<String>) -> String {
    items.iter().map(|i| format!("{i}\n")).collect()
}

fn failed(expected: impl Into<String>, actual: String) -> Outcome {
    Outcome::Failed { expected: expected.into(), actual, diff: None }
}

fn refusal_text(case: &Case) -> String {
    let mut text = "refused".to_owned();
    if let Some(code) = &case.code {
        text += &format!(" ({code})");
    }
    if let Some(message) = &case.message {
        text += &format!(" with a message containing `{message}`");
    }
    text
}

/// The case's `expect`, which must be one of `allowed`.
fn expectation<'a>(case: &Case, allowed: &[&'a str]) -> Asked<&'a str> {
    let words = allowed.join(" or ");
    let expect = case.expect.as_deref().ok_or_else(|| format!("the case needs `expect: {words}`"))?;
    allowed.iter().copied().find(|w| *w == expect).ok_or_else(|| format!("`expect: {expect}` is not {words} here"))
}

fn no_list_expectations(case: &Case) -> Asked<()> {
    if case.exactly.is_some() || !case.includes.is_empty() || !case.excludes.is_empty() {
        return Err(
            "`exactly`, `includes` and `excludes` belong to `permissions`, `roles`, `lookup` and `subjects`".into()
        );
    }
    if case.operation.is_none() && (case.code.is_some() || case.message.is_some()) {
        return Err("`code` and `message` belong to `do`".into());
    }
    Ok(())
}

fn no_single_expectations(case: &Case) -> Asked<()> {
    if case.expect.is_some() || case.code.is_some() || case.message.is_some() || !case.because.is_empty() {
        return Err("a list question is answered with `exactly`, `includes` or `excludes`, not `expect`".into());
    }
    if case.exactly.is_none() && case.includes.is_empty() && case.excludes.is_empty() {
        return Err("the case expects nothing: give `exactly`, `includes` or `excludes`".into());
    }
    Ok(())
}

/// A decision question about a principal the fixtures never mention is a typo, not a deny.
fn known_principal(engine: &Engine, principal: &str) -> Asked<()> {
    if engine.has_principal(principal) {
        Ok(())
    } else {
        Err(format!("principal `{principal}` appears nowhere in the fixtures (a typo would always be denied)"))
    }
}

/// Everything an explanation says, as one text `because` searches: its summary, each role
/// that reached the resource and where it came from, and what was ignored.
fn explanation_text(explanation: &roster_core::Explanation) -> String {
    let mut text = explanation.summary.clone();
    for role in explanation.granted_by.iter().chain(&explanation.considered) {
        let from = match &role.via {
            Via::Membership { account } => format!("membership in `{account}`"),
            Via::Grant { grant, account, resource, subject } => {
                format!("grant `{grant}` to `{subject}` on `{account}/{resource}`")
            }
        };
        let part = format!("; role `{}` ({}) by {from}", role.role, role.holds);
        if !text.contains(&part) {
            text += &part;
        }
    }
    for ignored in &explanation.ignored {
        text += &format!("; ignored: {ignored}");
    }
    text
}

fn actor_of(actor: Option<&str>) -> Actor {
    actor.map_or(Actor::Service, |a| Actor::Principal(a.to_owned()))
}

/// Carries out a `given` step; a refusal makes the case invalid.
fn carry_out(engine: &mut Engine, step: &Step, setting: Setting<'_>) -> Asked<()> {
    let operation = operation(&step.operation, setting)?;
    engine.execute(&actor_of(step.actor.as_deref()), &operation, setting.now).map(|_| ()).map_err(|e| {
        format!(
            "{} as {} was refused: {e}",
            operation_word(&step.operation),
            step.actor.as_deref().unwrap_or("platform")
        )
    })
}

/// The operation's name as the file spells it.
fn operation_word(op: &OperationSpec) -> &'static str {
    use OperationSpec as O;
    match op {
        O::CreateAccount { .. } => "create_account",
        O::AddMember { .. } => "add_member",
        O::ChangeRole { .. } => "change_role",
        O::RemoveMember { .. } => "remove_member",
        O::RestoreMember { .. } => "restore_member",
        O::PurgeMember { .. } => "purge_member",
        O::MoveMember { .. } => "move_member",
        O::Grant { .. } => "grant",
        O::RevokeGrant { .. } => "revoke_grant",
        O::TransferOwnership { .. } => "transfer_ownership",
        O::DefineRole { .. } => "define_role",
        O::RemoveRole { .. } => "remove_role",
        O::CreateResource { .. } => "create_resource",
        O::DeleteResource { .. } => "delete_resource",
        O::CreateGroup { .. } => "create_group",
        O::DeleteGroup { .. } => "delete_group",
        O::AddGroupMember { .. } => "add_group_member",
        O::RemoveGroupMember { .. } => "remove_group_member",
        O::ViewMember { .. } => "view_member",
        O::Masquerade { .. } => "masquerade",
        O::Invite { .. } => "invite",
        O::RevokeInvite { .. } => "revoke_invite",
    }
}

/// The engine's operation for a file's, with omitted accounts filled in.
fn operation(op: &OperationSpec, setting: Setting<'_>) -> Asked<Operation> {
    use OperationSpec as O;
    let acc = |named: &Option<String>| setting.account(named);
    Ok(match op {
        O::CreateAccount { id, parent, owner } => {
            // A test file has one pack, the fixtures'.
            let pack = setting.pack.to_owned();
            Operation::CreateAccount { id: id.clone(), pack, parent: parent.clone(), owner: owner.clone() }
        }
        O::AddMember { account, principal, role, external, expires_at } => Operation::AddMember {
            account: acc(account)?,
            principal: principal.clone(),
            role: role.clone(),
            external: *external,
            expires_at: *expires_at,
        },
        O::ChangeRole { account, principal, role } => {
            Operation::ChangeRole { account: acc(account)?, principal: principal.clone(), role: role.clone() }
        }
        O::RemoveMember { account, principal } => {
            Operation::RemoveMember { account: acc(account)?, principal: principal.clone() }
        }
        O::RestoreMember { account, principal } => {
            Operation::RestoreMember { account: acc(account)?, principal: principal.clone() }
        }
        O::PurgeMember { account, principal } => {
            Operation::PurgeMember { account: acc(account)?, principal: principal.clone() }
        }
        O::MoveMember { from, to, principal, role } => Operation::MoveMember {
            from: from.clone(),
            to: to.clone(),
            principal: principal.clone(),
            role: role.clone(),
        },
        O::Grant { account, id, principal, group, resource, role, expires_at } => Operation::Grant {
            id: id.clone().unwrap_or_else(|| "case-grant".to_owned()),
            account: acc(account)?,
            subject: subject(principal.as_deref(), group.as_deref())?,
            resource: resource.clone(),
            role: role.clone(),
            expires_at: *expires_at,
        },
        O::RevokeGrant { account, id } => Operation::RevokeGrant { account: acc(account)?, id: id.clone() },
        O::TransferOwnership { account, to } => Operation::TransferOwnership { account: acc(account)?, to: to.clone() },
        O::DefineRole { account, role } => Operation::DefineRole { account: acc(account)?, role: role_def(role) },
        O::RemoveRole { account, role } => Operation::RemoveRole { account: acc(account)?, role: role.clone() },
        O::CreateResource { account, resource, parent, owner } => Operation::CreateResource {
            account: acc(account)?,
            resource: resource.clone(),
            parent: parent.clone(),
            owner: owner.clone(),
        },
        O::DeleteResource { account, resource } => {
            Operation::DeleteResource { account: acc(account)?, resource: resource.clone() }
        }
        O::CreateGroup { account, group } => Operation::CreateGroup { account: acc(account)?, group: group.clone() },
        O::DeleteGroup { account, group } => Operation::DeleteGroup { account: acc(account)?, group: group.clone() },
        O::AddGroupMember { account, group, principal } => {
            Operation::AddGroupMember { account: acc(account)?, group: group.clone(), principal: principal.clone() }
        }
        O::RemoveGroupMember { account, group, principal } => {
            Operation::RemoveGroupMember { account: acc(account)?, group: group.clone(), principal: principal.clone() }
        }
        O::ViewMember { account, principal } => {
            Operation::ViewMember { account: acc(account)?, principal: principal.clone() }
        }
        O::Masquerade { account, target } => Operation::Masquerade { account: acc(account)?, target: target.clone() },
        O::Invite { account, role, resource } => {
            Operation::Invite { account: acc(account)?, role: role.clone(), resource: resource.clone() }
        }
        O::RevokeInvite { account, role, resource } => {
            Operation::RevokeInvite { account: acc(account)?, role: role.clone(), resource: resource.clone() }
        }
    })
}
