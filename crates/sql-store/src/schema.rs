//! The tables, once for every backend (see `migrations/postgres` and `migrations/sqlite`).

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::*;

    identities (id) {
        id -> Id,
        schema_id -> Text,
        state -> Text,
        traits -> Document,
        identifier -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        created_at -> Instant,
        updated_at -> Instant,
        metadata_public -> Nullable<Document>,
        metadata_admin -> Nullable<Document>,
        recovery_addresses -> Document,
        verifiable_addresses -> Document,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::*;

    recovery_flows (id) {
        id -> Id,
        identity_id -> Id,
        flow_type -> Text,
        state -> Text,
        active_method -> Text,
        request_url -> Text,
        submit_count -> Integer,
        issued_at -> Instant,
        expires_at -> Instant,
        return_to -> Nullable<Text>,
        verifies_addresses -> Bool,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::*;

    recovery_codes (id) {
        id -> Id,
        flow_id -> Id,
        identity_id -> Id,
        code_hash -> Text,
        code_type -> Text,
        issued_at -> Instant,
        expires_at -> Instant,
        used_at -> Nullable<Instant>,
        revoked_at -> Nullable<Instant>,
        exclusive -> Bool,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::*;

    sessions (id) {
        id -> Id,
        identity_id -> Id,
        token_hash -> Text,
        method -> Text,
        authenticated_at -> Instant,
        expires_at -> Instant,
        revoked_at -> Nullable<Instant>,
        device_ip_address -> Nullable<Text>,
        device_user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::*;

    settings_flows (id) {
        id -> Id,
        identity_id -> Id,
        session_id -> Id,
        flow_type -> Text,
        state -> Text,
        issued_at -> Instant,
        expires_at -> Instant,
        return_to -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::*;

    login_flows (id) {
        id -> Id,
        flow_type -> Text,
        issued_at -> Instant,
        expires_at -> Instant,
        return_to -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::*;

    login_failures (identifier_key, address) {
        identifier_key -> Text,
        address -> Text,
        failures -> Integer,
        last_failure_at -> Instant,
        previous_failure_at -> Nullable<Instant>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::types::sql::*;

    audit_events (id) {
        id -> Id,
        occurred_at -> Instant,
        actor -> Text,
        action -> Text,
        reason -> Nullable<Text>,
        identity_id -> Nullable<Id>,
        flow_id -> Nullable<Id>,
        client_address -> Nullable<Text>,
        request_id -> Nullable<Text>,
    }
}

diesel::joinable!(recovery_codes -> recovery_flows (flow_id));
diesel::joinable!(sessions -> identities (identity_id));
diesel::allow_tables_to_appear_in_same_query!(
    identities,
    recovery_flows,
    recovery_codes,
    sessions,
    settings_flows,
    login_flows,
    login_failures,
    audit_events,
);
