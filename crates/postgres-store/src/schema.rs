//! The tables, as diesel sees them (see `migrations/postgres`).

diesel::table! {
    identities (id) {
        id -> Uuid,
        schema_id -> Text,
        state -> Text,
        traits -> Jsonb,
        identifier -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    recovery_flows (id) {
        id -> Uuid,
        identity_id -> Uuid,
        flow_type -> Text,
        state -> Text,
        active_method -> Text,
        request_url -> Text,
        submit_count -> Int4,
        issued_at -> Timestamptz,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> Uuid,
        flow_id -> Uuid,
        identity_id -> Uuid,
        code_hash -> Text,
        code_type -> Text,
        issued_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(recovery_codes -> recovery_flows (flow_id));
diesel::allow_tables_to_appear_in_same_query!(identities, recovery_flows, recovery_codes);
