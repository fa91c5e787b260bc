// The owner store's schema versions, as migrations for the database layer
// (db/database.h). Each version's `down` script takes a database back to
// the previous version, for an older wardend after an A/B rollback.
//
// Version 1 (wardend's first release): meta (key, value) with 'schema' and
// the one owner password, owners, sessions of nobody in particular.
// Version 2: owners with roles; passwords, sessions and device cookies that
// belong to one owner each (foreign keys, ON DELETE CASCADE); unique owner
// names. Going back to 1 keeps every owner and gives the first
// administrator's password and sessions back to the device; other owners'
// passwords and sessions and all device cookies are dropped, as version 1
// has no place for them.
#ifndef WARDEN_STORE_SCHEMA_H_
#define WARDEN_STORE_SCHEMA_H_

#include <cstdint>

#include "db/database.h"

namespace warden::store {

// PRAGMA application_id of a state database: "WARD".
inline constexpr int32_t kStateApplicationId = 0x57415244;

// The schema this build writes: every version up to the newest.
const db::Schema& StateSchema();

}  // namespace warden::store

#endif  // WARDEN_STORE_SCHEMA_H_
