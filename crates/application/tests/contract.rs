//! The in-memory fake keeps the same storage contract as the database adapters.

use application::testing::InMemoryStore;

application::store_contract!(|store| InMemoryStore::new() => &store);
