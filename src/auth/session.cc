#include "auth/session.h"

#include <sodium.h>

#include <algorithm>

#include "base/bytes.h"

namespace warden::auth {
namespace {

// Latest expiry Import accepts: 2200-01-01. WallTime counts nanoseconds in
// 64 bits, which ends in 2262; a corrupt store must not overflow it.
constexpr int64_t kMaxExpiryUnix = 7258118400;

}  // namespace

SessionTable::SessionTable(Clock& clock, Rng& rng,
                           std::chrono::seconds lifetime, size_t max_sessions)
    : clock_(clock),
      rng_(rng),
      lifetime_(std::max(lifetime, std::chrono::seconds(1))),
      max_sessions_(std::max<size_t>(max_sessions, 1)) {
  // Only hashing is used, which needs no sodium_init; calling it anyway
  // selects the fastest SHA-256 implementation.
  static const bool sodium_ready = sodium_init() >= 0;
  (void)sodium_ready;
}

SessionTable::Hash SessionTable::HashToken(std::string_view token) {
  Hash h{};
  crypto_hash_sha256(h.data(), reinterpret_cast<const uint8_t*>(token.data()),
                     token.size());
  return h;
}

bool SessionTable::Live(const Entry& e) const {
  return clock_.Now() < e.expires_at && clock_.Monotonic() < e.mono_deadline;
}

void SessionTable::DropExpired() {
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [this](const Entry& e) { return !Live(e); }),
                 entries_.end());
}

std::ptrdiff_t SessionTable::Find(const Hash& hash) const {
  std::ptrdiff_t found = -1;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const bool equal =
        sodium_memcmp(entries_[i].hash.data(), hash.data(), hash.size()) == 0;
    if (equal) found = static_cast<std::ptrdiff_t>(i);
  }
  return found;
}

Result<Session> SessionTable::Create(int64_t owner_id) {
  Bytes raw(kTokenBytes);
  if (Status s = rng_.Fill(raw); !s.ok()) {
    sodium_memzero(raw.data(), raw.size());
    return s.WithContext("session token");
  }
  Session session{Base64UrlEncode(raw), clock_.Now() + lifetime_, owner_id};
  sodium_memzero(raw.data(), raw.size());

  DropExpired();
  while (entries_.size() >= max_sessions_) entries_.erase(entries_.begin());
  entries_.push_back(Entry{HashToken(session.token), session.expires_at,
                           clock_.Monotonic() + lifetime_, owner_id});
  return session;
}

std::optional<int64_t> SessionTable::Validate(std::string_view token) {
  // The length of a token is public; anything else cannot be one.
  if (token.size() != kTokenChars) return std::nullopt;
  const std::ptrdiff_t i = Find(HashToken(token));
  if (i < 0) return std::nullopt;
  if (!Live(entries_[static_cast<size_t>(i)])) {
    entries_.erase(entries_.begin() + i);
    return std::nullopt;
  }
  return entries_[static_cast<size_t>(i)].owner_id;
}

void SessionTable::Revoke(std::string_view token) {
  if (token.size() != kTokenChars) return;
  const std::ptrdiff_t i = Find(HashToken(token));
  if (i >= 0) entries_.erase(entries_.begin() + i);
}

void SessionTable::RevokeOwner(int64_t owner_id) {
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [owner_id](const Entry& e) {
                                  return e.owner_id == owner_id;
                                }),
                 entries_.end());
}

void SessionTable::RevokeAll() { entries_.clear(); }

size_t SessionTable::size() const {
  return static_cast<size_t>(
      std::count_if(entries_.begin(), entries_.end(),
                    [this](const Entry& e) { return Live(e); }));
}

std::vector<ExportedSession> SessionTable::Export() const {
  std::vector<ExportedSession> out;
  for (const Entry& e : entries_) {
    if (Live(e)) {
      out.push_back({HexEncode(e.hash), UnixSeconds(e.expires_at), e.owner_id});
    }
  }
  return out;
}

Status SessionTable::Import(const std::vector<ExportedSession>& sessions) {
  const WallTime now = clock_.Now();
  const MonoTime mono_now = clock_.Monotonic();
  std::vector<Entry> fresh;
  for (size_t i = 0; i < sessions.size(); ++i) {
    const auto& [hex, expires_unix, owner_id] = sessions[i];
    const std::string where = "session " + std::to_string(i);
    if (hex.size() != 2 * Hash().size()) {
      return DataLossError(where + ": hash is not 64 hex digits");
    }
    Result<Bytes> bytes = HexDecode(hex);
    if (!bytes.ok()) {
      return DataLossError(where + ": hash is not 64 hex digits");
    }
    if (expires_unix < 0 || expires_unix > kMaxExpiryUnix) {
      return DataLossError(where + ": expiry out of range");
    }
    const WallTime expires_at = FromUnixSeconds(expires_unix);
    if (expires_at <= now) continue;
    Entry e{};
    std::copy(bytes->begin(), bytes->end(), e.hash.begin());
    e.expires_at = expires_at;
    e.owner_id = owner_id;
    // A wall clock that is behind (no RTC, before NTP) would make the
    // remaining time look long; never allow more than one lifetime.
    const auto remaining = std::min<std::chrono::nanoseconds>(
        expires_at - now, std::chrono::nanoseconds(lifetime_));
    e.mono_deadline = mono_now + remaining;
    fresh.push_back(e);
  }
  if (fresh.size() > max_sessions_) {
    // Keep the ones expiring last, still in their original order.
    std::vector<Entry> by_expiry = fresh;
    std::stable_sort(by_expiry.begin(), by_expiry.end(),
                     [](const Entry& a, const Entry& b) {
                       return a.expires_at > b.expires_at;
                     });
    const WallTime cutoff = by_expiry[max_sessions_ - 1].expires_at;
    std::vector<Entry> kept;
    size_t at_cutoff_allowed = static_cast<size_t>(
        std::count_if(by_expiry.begin(), by_expiry.begin() + max_sessions_,
                      [&](const Entry& e) { return e.expires_at == cutoff; }));
    for (const Entry& e : fresh) {
      if (e.expires_at > cutoff) {
        kept.push_back(e);
      } else if (e.expires_at == cutoff && at_cutoff_allowed > 0) {
        kept.push_back(e);
        --at_cutoff_allowed;
      }
    }
    fresh = std::move(kept);
  }
  entries_ = std::move(fresh);
  return Status::Ok();
}

}  // namespace warden::auth
