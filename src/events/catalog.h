// Every kind of event wardend publishes. Names are stable: logs, telemetry
// and the assessor key on them (docs/OPERATIONS.md lists them with their
// fields).
#ifndef WARDEN_EVENTS_CATALOG_H_
#define WARDEN_EVENTS_CATALOG_H_

#include "events/event.h"

namespace warden::events {

// ---- security --------------------------------------------------------------
inline constexpr Kind kPaired{"paired", Severity::kNotice, Category::kSecurity};
inline constexpr Kind kOwnerAdded{"owner_added", Severity::kNotice,
                                  Category::kSecurity};
// An owner proved the setup code again with the key already registered.
inline constexpr Kind kPairedAgain{"paired_again", Severity::kNotice,
                                   Category::kSecurity};
inline constexpr Kind kOwnerRemoved{"owner_removed", Severity::kNotice,
                                    Category::kSecurity};
inline constexpr Kind kOwnerReset{"owner_reset", Severity::kNotice,
                                  Category::kSecurity};
inline constexpr Kind kPasswordChanged{"password_changed", Severity::kNotice,
                                       Category::kSecurity};
inline constexpr Kind kPairingOpened{"pairing_opened", Severity::kNotice,
                                     Category::kSecurity};
inline constexpr Kind kPairingFailed{"pairing_failed", Severity::kWarning,
                                     Category::kSecurity};
inline constexpr Kind kPairingLocked{"pairing_locked", Severity::kError,
                                     Category::kSecurity};
inline constexpr Kind kLogin{"login", Severity::kInfo, Category::kSecurity};
inline constexpr Kind kLogout{"logout", Severity::kInfo, Category::kSecurity};
inline constexpr Kind kLoginFailed{"login_failed", Severity::kWarning,
                                   Category::kSecurity};
inline constexpr Kind kLoginThrottled{"login_throttled", Severity::kWarning,
                                      Category::kSecurity};
// A device cookie was revoked after too many failed logins with it.
inline constexpr Kind kDeviceCookieRevoked{
    "device_cookie_revoked", Severity::kWarning, Category::kSecurity};
inline constexpr Kind kAccessDenied{"access_denied", Severity::kWarning,
                                    Category::kSecurity};
inline constexpr Kind kConnectionRefused{
    "connection_refused", Severity::kWarning, Category::kSecurity};
inline constexpr Kind kConnectionEvicted{
    "connection_evicted", Severity::kWarning, Category::kSecurity};
inline constexpr Kind kBadRequest{"bad_request", Severity::kInfo,
                                  Category::kSecurity};
// The app could not be isolated (it stayed dumpable) and was killed.
inline constexpr Kind kAppRefused{"app_refused", Severity::kError,
                                  Category::kSecurity};
// The booted slot does not match the signed release installed in it: its
// code is not launched (safe mode).
inline constexpr Kind kTamper{"tamper", Severity::kError, Category::kSecurity};
// An update was refused: a TUF check or an installer check failed ("code").
inline constexpr Kind kUpdateRefused{"update_refused", Severity::kWarning,
                                     Category::kSecurity};
// All personal data was deleted (crypto-erase and wipe): "kinds",
// "records", "keys_destroyed", and who asked ("by", personal).
inline constexpr Kind kDataDeleted{"data_deleted", Severity::kNotice,
                                   Category::kSecurity};
// A deletion a power cut interrupted was finished at start.
inline constexpr Kind kDataDeletionResumed{
    "data_deletion_resumed", Severity::kNotice, Category::kSecurity};
// The running release is past its security support period.
inline constexpr Kind kSupportEnded{"support_ended", Severity::kWarning,
                                    Category::kSecurity};

// ---- operational -----------------------------------------------------------
inline constexpr Kind kListening{"listening", Severity::kNotice,
                                 Category::kOperational};
inline constexpr Kind kStopping{"stopping", Severity::kNotice,
                                Category::kOperational};
inline constexpr Kind kStopped{"stopped", Severity::kNotice,
                               Category::kOperational};
// wardend restarts itself to boot another slot (file-backed slots).
inline constexpr Kind kRebooting{"rebooting", Severity::kNotice,
                                 Category::kOperational};
inline constexpr Kind kStartFailed{"start_failed", Severity::kError,
                                   Category::kOperational};
inline constexpr Kind kStoreError{"store_error", Severity::kError,
                                  Category::kOperational};
inline constexpr Kind kStateChanged{"state_changed", Severity::kInfo,
                                    Category::kOperational};
inline constexpr Kind kLogSuppressed{"log_suppressed", Severity::kNotice,
                                     Category::kOperational};

// ---- updates ---------------------------------------------------------------
inline constexpr Kind kUpdateAvailable{"update_available", Severity::kNotice,
                                       Category::kOperational};
inline constexpr Kind kUpdateStarted{"update_started", Severity::kInfo,
                                     Category::kOperational};
inline constexpr Kind kUpdateInstalled{"update_installed", Severity::kNotice,
                                       Category::kOperational};
inline constexpr Kind kUpdateCommitted{"update_committed", Severity::kNotice,
                                       Category::kOperational};
inline constexpr Kind kUpdateRolledBack{"update_rolled_back", Severity::kError,
                                        Category::kOperational};
inline constexpr Kind kUpdateDeferred{"update_deferred", Severity::kNotice,
                                      Category::kOperational};
// A download or check that failed for a reason other than a refusal (the
// network, the disk); it is tried again.
inline constexpr Kind kUpdateFailed{"update_failed", Severity::kWarning,
                                    Category::kOperational};

// ---- the app ---------------------------------------------------------------
inline constexpr Kind kAppStarted{"app_started", Severity::kInfo,
                                  Category::kApp};
inline constexpr Kind kAppAccepted{"app_accepted", Severity::kNotice,
                                   Category::kApp};
inline constexpr Kind kAppMessageRefused{"app_message_refused",
                                         Severity::kWarning, Category::kApp};
inline constexpr Kind kAppDisconnected{"app_disconnected", Severity::kWarning,
                                       Category::kApp};
inline constexpr Kind kAppExited{"app_exited", Severity::kWarning,
                                 Category::kApp};
inline constexpr Kind kAppRestarting{"app_restarting", Severity::kNotice,
                                     Category::kApp};
inline constexpr Kind kAppRestartFailed{"app_restart_failed", Severity::kError,
                                        Category::kApp};
// Records past their kind's retention were deleted ("records").
inline constexpr Kind kDataExpired{"data_expired", Severity::kInfo,
                                   Category::kOperational};
// One line the app wrote to its stdout or stderr.
inline constexpr Kind kAppOutput{"app_output", Severity::kInfo, Category::kApp};

}  // namespace warden::events

#endif  // WARDEN_EVENTS_CATALOG_H_
