//! sea-orm entities, one module per table of `migrations/`.
#![allow(missing_docs)]

pub mod account;
pub mod audit_event;
pub mod audit_head;
pub mod change_feed;
pub mod custom_role;
pub mod grant;
pub mod group;
pub mod group_member;
pub mod invite;
pub mod membership;
pub mod meta;
pub mod pack_record;
pub mod principal;
pub mod resource;
pub mod token;
