//! How PostgreSQL redeems a code: in one statement.

use application::ports::RedeemError;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz, Untyped, Uuid as SqlUuid};
use domain::recovery::{FlowState, Redemption};
use domain::time::Timestamp;
use sql_store::rows::verifiable_document;
use sql_store::store_error;
use sql_store::types::{DbDocument, sql::Document};

use crate::audit::{AuditParams, insert_audit_event};

/// The code is consumed only if still unused and unrevoked; everything else happens only if it
/// was (`EXISTS (SELECT 1 FROM consumed)`), so a lost race writes nothing. Of concurrent
/// redemptions of one code, the row lock lets one consume it; the others find it used. Only
/// unexpired sessions are revoked: `s.expires_at > p.at` mirrors `Expires::is_expired`. Proven
/// addresses are written only if the identity is unchanged since it was read.
const REDEEM: &str = concat!(
    "
), consumed AS (
    UPDATE recovery_codes c SET used_at = p.at FROM p
    WHERE c.id = p.code_id AND c.flow_id = p.flow_id AND c.used_at IS NULL AND c.revoked_at IS NULL
    RETURNING c.id
), passed AS (
    UPDATE recovery_flows f SET state = p.passed FROM p
    WHERE f.id = p.flow_id AND EXISTS (SELECT 1 FROM consumed)
    RETURNING 1
), proven AS (
    UPDATE identities i SET verifiable_addresses = p.proven_addresses FROM p
    WHERE p.proven_addresses IS NOT NULL AND i.id = p.identity_id
      AND i.updated_at = p.unchanged_since AND EXISTS (SELECT 1 FROM consumed)
    RETURNING 1
), revoked AS (
    UPDATE sessions s SET revoked_at = p.at FROM p
    WHERE p.revoke_others AND s.identity_id = p.identity_id AND s.expires_at > p.at
      AND s.revoked_at IS NULL AND EXISTS (SELECT 1 FROM consumed)
    RETURNING 1
), session AS (
    INSERT INTO sessions (id, identity_id, token_hash, method, authenticated_at, expires_at,
                          device_ip_address, device_user_agent)
    SELECT p.session_id, p.identity_id, p.token_hash, p.method, p.at, p.session_expires_at,
           p.device_ip_address, p.device_user_agent
    FROM p WHERE EXISTS (SELECT 1 FROM consumed)
    RETURNING id
), settings AS (
    INSERT INTO settings_flows
        (id, identity_id, session_id, flow_type, state, issued_at, expires_at, return_to)
    SELECT p.settings_id, p.identity_id, session.id, p.settings_type, p.settings_state, p.at,
           p.settings_expires_at, p.return_to
    FROM p, session
    RETURNING 1
), cleared AS (
    DELETE FROM login_failures l
    WHERE (l.identifier_key, l.address) IN (
        -- Locked in the order sign-ins take them (their address's count, then the one over
        -- all addresses, ''), so the two cannot deadlock.
        SELECT f.identifier_key, f.address FROM login_failures f, p
        WHERE p.lockout_key IS NOT NULL AND f.identifier_key = p.lockout_key
          AND EXISTS (SELECT 1 FROM consumed)
        ORDER BY f.address DESC FOR UPDATE OF f
    )
    RETURNING 1
), audited AS (
    ",
    insert_audit_event!(),
    " WHERE EXISTS (SELECT 1 FROM consumed)
    RETURNING 1
)
SELECT count(*) AS redeemed FROM consumed"
);

/// [`REDEEM`] with its parameters, cacheable as a prepared statement.
struct Redeem<'a> {
    redemption: &'a Redemption,
    audit: AuditParams<'a>,
    passed: &'static str,
    method: &'static str,
    settings_type: &'static str,
    settings_state: &'static str,
    device_ip_address: Option<String>,
    device_user_agent: Option<&'a str>,
    proven_addresses: Option<DbDocument>,
    unchanged_since: Option<Timestamp>,
    lockout_key: Option<&'a str>,
}

impl QueryId for Redeem<'_> {
    type QueryId = Redeem<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for Redeem<'_> {
    type SqlType = Untyped;
}

impl RunQueryDsl<PgConnection> for Redeem<'_> {}

impl QueryFragment<Pg> for Redeem<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let r = self.redemption;
        out.push_sql("WITH p AS (SELECT ");
        out.push_bind_param::<SqlUuid, _>(r.code_id.as_uuid())?;
        out.push_sql(" AS code_id, ");
        out.push_bind_param::<SqlUuid, _>(r.flow_id.as_uuid())?;
        out.push_sql(" AS flow_id, ");
        out.push_bind_param::<Timestamptz, _>(&r.at)?;
        out.push_sql(" AS at, ");
        out.push_bind_param::<Text, _>(&self.passed)?;
        out.push_sql(" AS passed, ");
        out.push_bind_param::<Bool, _>(&r.revoke_other_sessions)?;
        out.push_sql(" AS revoke_others, ");
        out.push_bind_param::<SqlUuid, _>(r.session.identity_id.as_uuid())?;
        out.push_sql(" AS identity_id, ");
        out.push_bind_param::<SqlUuid, _>(r.session.id.as_uuid())?;
        out.push_sql(" AS session_id, ");
        out.push_bind_param::<Text, _>(r.session.token_hash.as_str())?;
        out.push_sql(" AS token_hash, ");
        out.push_bind_param::<Text, _>(&self.method)?;
        out.push_sql(" AS method, ");
        out.push_bind_param::<Timestamptz, _>(&r.session.expires_at)?;
        out.push_sql(" AS session_expires_at, ");
        out.push_bind_param::<SqlUuid, _>(r.settings.id.as_uuid())?;
        out.push_sql(" AS settings_id, ");
        out.push_bind_param::<Text, _>(&self.settings_type)?;
        out.push_sql(" AS settings_type, ");
        out.push_bind_param::<Text, _>(&self.settings_state)?;
        out.push_sql(" AS settings_state, ");
        out.push_bind_param::<Timestamptz, _>(&r.settings.expires_at)?;
        out.push_sql(" AS settings_expires_at, ");
        out.push_bind_param::<diesel::sql_types::Nullable<Text>, _>(&r.settings.return_to)?;
        out.push_sql(" AS return_to, ");
        out.push_bind_param::<diesel::sql_types::Nullable<Text>, _>(&self.device_ip_address)?;
        out.push_sql(" AS device_ip_address, ");
        out.push_bind_param::<diesel::sql_types::Nullable<Text>, _>(&self.device_user_agent)?;
        out.push_sql(" AS device_user_agent, ");
        out.push_bind_param::<Nullable<Document>, _>(&self.proven_addresses)?;
        out.push_sql(" AS proven_addresses, ");
        out.push_bind_param::<Nullable<Timestamptz>, _>(&self.unchanged_since)?;
        out.push_sql(" AS unchanged_since, ");
        out.push_bind_param::<Nullable<Text>, _>(&self.lockout_key)?;
        out.push_sql(" AS lockout_key");
        self.audit.push(&mut out)?;
        out.push_sql(REDEEM);
        Ok(())
    }
}

#[derive(QueryableByName)]
struct Redeemed {
    #[diesel(sql_type = BigInt)]
    redeemed: i64,
}

/// Redeems in one statement: one round trip instead of seven.
pub(crate) fn redeem(conn: &mut PgConnection, redemption: &Redemption) -> Result<(), RedeemError> {
    // All or nothing, so a deadlock (with a concurrent reset of the identifier's failed
    // sign-ins, or an issue for the identity) is tried again.
    let mut tries = 0;
    loop {
        tries += 1;
        let statement = Redeem {
            redemption,
            audit: AuditParams::new(&redemption.audit),
            passed: FlowState::PassedChallenge.as_str(),
            method: redemption.session.method.as_str(),
            settings_type: redemption.settings.flow_type.as_str(),
            settings_state: redemption.settings.state.as_str(),
            device_ip_address: redemption
                .session
                .device
                .ip_address
                .map(|ip| ip.to_string()),
            device_user_agent: redemption
                .session
                .device
                .user_agent
                .as_ref()
                .map(|ua| ua.as_str()),
            proven_addresses: redemption
                .proven_addresses
                .as_ref()
                .map(|proven| verifiable_document(&proven.verifiable)),
            unchanged_since: redemption
                .proven_addresses
                .as_ref()
                .map(|proven| proven.unchanged_since),
            lockout_key: redemption.clear_lockout.as_ref().map(|key| key.as_str()),
        };
        match statement.get_result::<Redeemed>(conn) {
            Ok(Redeemed { redeemed: 1 }) => return Ok(()),
            Ok(_) => return Err(RedeemError::CodeAlreadyUsed),
            Err(error) if tries < DEADLOCK_TRIES && sql_store::is_deadlock(&error) => {}
            Err(error) => return Err(store_error(error).into()),
        }
    }
}

/// Tries of a redemption that meets a deadlock.
const DEADLOCK_TRIES: usize = 3;
