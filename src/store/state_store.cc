#include "store/state_store.h"

#include <utility>

#include "store/schema.h"

namespace warden::store {
namespace {

constexpr char kOwnerColumns[] =
    "SELECT id, name, spki, fingerprint, created_at, role FROM owners ";

Owner ReadOwner(const db::Statement& s) {
  Owner o;
  o.id = s.Int(0);
  o.name = s.Text(1);
  o.spki_der = s.Blob(2);
  o.fingerprint = s.Text(3);
  o.created_at = s.Int(4);
  o.role = s.Text(5) == "admin" ? Role::kAdmin : Role::kMember;
  return o;
}

}  // namespace

std::string_view RoleName(Role role) {
  return role == Role::kAdmin ? "admin" : "member";
}

Result<std::unique_ptr<StateStore>> StateStore::Open(platform::Env& env,
                                                     const std::string& path) {
  WARDEN_ASSIGN_OR_RETURN(std::unique_ptr<db::Database> db,
                          db::Database::Open(env, path, StateSchema()));
  return std::unique_ptr<StateStore>(new StateStore(std::move(db)));
}

Result<std::unique_ptr<StateStore>> StateStore::Open(const std::string& path) {
  return Open(platform::DefaultEnv(), path);
}

Result<bool> StateStore::IsPaired() {
  WARDEN_ASSIGN_OR_RETURN(db::Statement s,
                          db_->Prepare("SELECT COUNT(*) FROM owners"));
  WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
  return row && s.Int(0) > 0;
}

Result<std::vector<Owner>> StateStore::Owners() {
  WARDEN_ASSIGN_OR_RETURN(
      db::Statement s,
      db_->Prepare(std::string(kOwnerColumns) + "ORDER BY id"));
  std::vector<Owner> out;
  for (;;) {
    WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadOwner(s));
  }
  return out;
}

Result<std::optional<Owner>> StateStore::OwnerWhere(std::string_view condition,
                                                    const std::string* text,
                                                    int64_t number) {
  WARDEN_ASSIGN_OR_RETURN(
      db::Statement s,
      db_->Prepare(std::string(kOwnerColumns) + std::string(condition)));
  if (text != nullptr) {
    s.Bind(1, std::string_view(*text));
  } else {
    s.Bind(1, number);
  }
  WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<Owner>();
  return std::optional<Owner>(ReadOwner(s));
}

Result<std::optional<Owner>> StateStore::FindOwner(
    const std::string& fingerprint) {
  return OwnerWhere("WHERE fingerprint = ?1", &fingerprint, 0);
}

Result<std::optional<Owner>> StateStore::FindOwnerById(int64_t id) {
  return OwnerWhere("WHERE id = ?1", nullptr, id);
}

Result<std::optional<Owner>> StateStore::FindOwnerByName(
    const std::string& name) {
  return OwnerWhere("WHERE name = ?1", &name, 0);
}

Result<Owner> StateStore::CompletePairing(
    const Owner& owner, const std::optional<std::string>& password_hash) {
  Owner admin = owner;
  admin.role = Role::kAdmin;
  Owner stored;
  Status st = db_->InTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(bool paired, IsPaired());
    if (paired) return FailedPreconditionError("device is already paired");
    // Nothing can be left over from an earlier owner (the foreign keys see
    // to that); clearing makes sure of it.
    WARDEN_TRY(
        db_->Exec("DELETE FROM device_cookies; DELETE FROM sessions; DELETE "
                  "FROM passwords;"));
    WARDEN_ASSIGN_OR_RETURN(stored, InsertOwner(admin, password_hash));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return stored;
}

Result<Owner> StateStore::AddOwner(
    const Owner& owner, const std::optional<std::string>& password_hash) {
  Owner stored;
  Status st = db_->InTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(bool paired, IsPaired());
    if (!paired) return FailedPreconditionError("device has no owner");
    WARDEN_ASSIGN_OR_RETURN(auto by_key, FindOwner(owner.fingerprint));
    if (by_key) return AlreadyExistsError("this key is already an owner");
    WARDEN_ASSIGN_OR_RETURN(auto by_name, FindOwnerByName(owner.name));
    if (by_name) {
      return AlreadyExistsError("an owner named \"" + owner.name +
                                "\" exists already");
    }
    WARDEN_ASSIGN_OR_RETURN(stored, InsertOwner(owner, password_hash));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return stored;
}

Result<Owner> StateStore::InsertOwner(
    const Owner& owner, const std::optional<std::string>& password_hash) {
  WARDEN_ASSIGN_OR_RETURN(
      db::Statement add,
      db_->Prepare("INSERT INTO owners(name, spki, fingerprint, created_at, "
                   "role) VALUES(?1, ?2, ?3, ?4, ?5)"));
  WARDEN_TRY(add.Bind(1, std::string_view(owner.name))
                 .Bind(2, ByteView(owner.spki_der))
                 .Bind(3, std::string_view(owner.fingerprint))
                 .Bind(4, owner.created_at)
                 .Bind(5, RoleName(owner.role))
                 .Run());
  Owner stored = owner;
  stored.id = db_->LastInsertId();
  if (password_hash) {
    WARDEN_ASSIGN_OR_RETURN(
        db::Statement pw,
        db_->Prepare("INSERT INTO passwords(owner_id, hash) VALUES(?1, ?2)"));
    WARDEN_TRY(pw.Bind(1, stored.id).Bind(2, *password_hash).Run());
  }
  return stored;
}

Status StateStore::RemoveOwner(int64_t id) {
  return db_->InTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(auto owner, FindOwnerById(id));
    if (!owner) return NotFoundError("no owner " + std::to_string(id));
    if (owner->role == Role::kAdmin) {
      WARDEN_ASSIGN_OR_RETURN(
          db::Statement admins,
          db_->Prepare("SELECT COUNT(*) FROM owners WHERE role = 'admin'"));
      WARDEN_ASSIGN_OR_RETURN(bool row, admins.Step());
      if (!row || admins.Int(0) <= 1) {
        return FailedPreconditionError(
            "the last administrator cannot be removed");
      }
    }
    // The foreign keys remove the owner's password, sessions and cookies.
    WARDEN_ASSIGN_OR_RETURN(db::Statement del,
                            db_->Prepare("DELETE FROM owners WHERE id = ?1"));
    return del.Bind(1, id).Run();
  });
}

Result<std::optional<std::string>> StateStore::PasswordHash(int64_t owner_id) {
  WARDEN_ASSIGN_OR_RETURN(
      db::Statement s,
      db_->Prepare("SELECT hash FROM passwords WHERE owner_id = ?1"));
  s.Bind(1, owner_id);
  WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(s.Text(0));
}

Status StateStore::SetPasswordHash(int64_t owner_id,
                                   const std::string& encoded_hash) {
  return db_->InTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(auto owner, FindOwnerById(owner_id));
    if (!owner) return NotFoundError("no owner " + std::to_string(owner_id));
    WARDEN_ASSIGN_OR_RETURN(
        db::Statement set,
        db_->Prepare("INSERT INTO passwords(owner_id, hash) VALUES(?1, ?2) ON "
                     "CONFLICT(owner_id) DO UPDATE SET hash = excluded.hash"));
    WARDEN_TRY(set.Bind(1, owner_id).Bind(2, encoded_hash).Run());
    // A new password ends what the old one opened: that owner's sessions
    // and the device cookies their logins earned.
    for (const char* sql : {"DELETE FROM sessions WHERE owner_id = ?1",
                            "DELETE FROM device_cookies WHERE owner_id = ?1"}) {
      WARDEN_ASSIGN_OR_RETURN(db::Statement del, db_->Prepare(sql));
      WARDEN_TRY(del.Bind(1, owner_id).Run());
    }
    return Status::Ok();
  });
}

Result<std::vector<StoredSession>> StateStore::Sessions() {
  WARDEN_ASSIGN_OR_RETURN(
      db::Statement s,
      db_->Prepare("SELECT token_hash, owner_id, expires_at FROM sessions"));
  std::vector<StoredSession> out;
  for (;;) {
    WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back({s.Text(0), s.Int(1), s.Int(2)});
  }
  return out;
}

Status StateStore::ReplaceSessions(const std::vector<StoredSession>& sessions) {
  return db_->InTransaction([&]() -> Status {
    WARDEN_TRY(db_->Exec("DELETE FROM sessions"));
    WARDEN_ASSIGN_OR_RETURN(
        db::Statement add,
        db_->Prepare("INSERT INTO sessions(token_hash, owner_id, expires_at) "
                     "VALUES(?1, ?2, ?3)"));
    for (const auto& session : sessions) {
      WARDEN_TRY(add.Bind(1, std::string_view(session.token_hash))
                     .Bind(2, session.owner_id)
                     .Bind(3, session.expires_at)
                     .Run());
      add.Reset();
    }
    return Status::Ok();
  });
}

Status StateStore::AddDeviceCookie(const DeviceCookie& cookie) {
  return db_->InTransaction([&]() -> Status {
    WARDEN_ASSIGN_OR_RETURN(auto owner, FindOwnerById(cookie.owner_id));
    if (!owner) {
      return NotFoundError("no owner " + std::to_string(cookie.owner_id));
    }
    WARDEN_ASSIGN_OR_RETURN(
        db::Statement expired,
        db_->Prepare("DELETE FROM device_cookies WHERE owner_id = ?1 AND "
                     "expires_at <= ?2"));
    WARDEN_TRY(
        expired.Bind(1, cookie.owner_id).Bind(2, cookie.created_at).Run());
    WARDEN_ASSIGN_OR_RETURN(
        db::Statement add,
        db_->Prepare("INSERT INTO device_cookies(cookie_hash, owner_id, "
                     "created_at, expires_at) VALUES(?1, ?2, ?3, ?4)"));
    WARDEN_TRY(add.Bind(1, std::string_view(cookie.cookie_hash))
                   .Bind(2, cookie.owner_id)
                   .Bind(3, cookie.created_at)
                   .Bind(4, cookie.expires_at)
                   .Run());
    // Keep the newest; among equal times the later insert counts as newer.
    WARDEN_ASSIGN_OR_RETURN(
        db::Statement trim,
        db_->Prepare("DELETE FROM device_cookies WHERE owner_id = ?1 AND "
                     "rowid NOT IN (SELECT rowid FROM device_cookies WHERE "
                     "owner_id = ?1 ORDER BY created_at DESC, rowid DESC "
                     "LIMIT ?2)"));
    return trim.Bind(1, cookie.owner_id)
        .Bind(2, static_cast<int64_t>(kMaxDeviceCookiesPerOwner))
        .Run();
  });
}

Result<std::optional<DeviceCookie>> StateStore::FindDeviceCookie(
    const std::string& cookie_hash, int64_t now) {
  WARDEN_ASSIGN_OR_RETURN(
      db::Statement s,
      db_->Prepare("SELECT cookie_hash, owner_id, created_at, expires_at FROM "
                   "device_cookies WHERE cookie_hash = ?1 AND expires_at > "
                   "?2"));
  s.Bind(1, std::string_view(cookie_hash)).Bind(2, now);
  WARDEN_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<DeviceCookie>();
  return std::optional<DeviceCookie>(
      DeviceCookie{s.Text(0), s.Int(1), s.Int(2), s.Int(3)});
}

Status StateStore::RemoveDeviceCookie(const std::string& cookie_hash) {
  WARDEN_ASSIGN_OR_RETURN(
      db::Statement s,
      db_->Prepare("DELETE FROM device_cookies WHERE cookie_hash = ?1"));
  return s.Bind(1, std::string_view(cookie_hash)).Run();
}

Status StateStore::Reset() {
  return db_->InTransaction([&]() -> Status {
    return db_->Exec(
        "DELETE FROM device_cookies; DELETE FROM sessions; DELETE FROM "
        "passwords; DELETE FROM owners;");
  });
}

}  // namespace warden::store
