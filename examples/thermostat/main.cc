// warden-thermostat: an example device application built on the Warden app
// SDK. It simulates a room heated by a thermostat:
//   temperature  read-only  the room temperature (°C), published every few
//                           seconds; it drifts up while heating and towards
//                           the outside temperature otherwise
//   heating      read-only  whether the heater is on
//   setpoint     writable   target temperature in "heat" mode, 5..30 °C in
//                           steps of 0.5
//   mode         writable   "off", "heat" (hold the setpoint) or "auto"
//                           (follow the weekly schedule)
//   schedule     writable   per weekday, up to 8 {"time": "HH:MM",
//                           "setpoint": °C} switch points
// Its personal data is kept in wardend's data store, declared as two kinds:
//   schedule             (usage) the weekly schedule, one record, replaced
//                        on each change
//   temperature_history  (sensor) one reading a minute, {"t", "c"}, kept
//                        for 30 days
// so the owner can export it and delete it for good. When it is deleted
// the schedule goes back to the default. SIGUSR1 stands for the device's
// "forget me" button: it asks wardend to delete all personal data and
// keeps the signed receipt in $WARDEN_APP_STATE_DIR/deletion-receipt.json. The
// setpoint and mode, which say nothing about the household, persist in
// $WARDEN_APP_STATE_DIR/thermostat.json (replaced atomically). The app
// exits cleanly on SIGTERM or when wardend closes the socket.
#include <signal.h>
#include <warden/app.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace {

using Json = nlohmann::json;

constexpr const char* kDays[7] = {"sun", "mon", "tue", "wed",
                                  "thu", "fri", "sat"};
constexpr double kMinSetpoint = 5;
constexpr double kMaxSetpoint = 30;
constexpr double kOutside = 12;      // °C the room cools towards
constexpr double kHysteresis = 0.3;  // °C around the target
constexpr int kTickMs = 1000;
constexpr std::chrono::seconds kPublishEvery{3};
constexpr size_t kMaxSettingsFile = 64 * 1024;
constexpr std::chrono::seconds kHistoryEvery{60};
constexpr const char* kScheduleKind = "schedule";
constexpr const char* kHistoryKind = "temperature_history";

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_button = 0;

void OnSignal(int) { g_stop = 1; }
void OnButton(int) { g_button = 1; }

Json SetpointSchema() {
  return {{"type", "number"},
          {"minimum", kMinSetpoint},
          {"maximum", kMaxSetpoint},
          {"multipleOf", 0.5}};
}

Json ScheduleSchema() {
  Json entry = {
      {"type", "object"},
      {"required", {"time", "setpoint"}},
      {"additionalProperties", false},
      {"properties",
       {{"time",
         {{"type", "string"}, {"pattern", "^([01][0-9]|2[0-3]):[0-5][0-9]$"}}},
        {"setpoint", SetpointSchema()}}}};
  Json day = {{"type", "array"}, {"maxItems", 8}, {"items", entry}};
  Json properties = Json::object();
  Json required = Json::array();
  for (const char* d : kDays) {
    properties[d] = day;
    required.push_back(d);
  }
  return {{"type", "object"},
          {"required", required},
          {"additionalProperties", false},
          {"properties", properties}};
}

// The same rules as the declared schemas. wardend has already checked every
// command; these guard the settings file, which nobody else checks.
bool ValidSetpoint(const Json& v) {
  if (!v.is_number()) return false;
  double d = v.get<double>();
  return d >= kMinSetpoint && d <= kMaxSetpoint && std::fmod(d * 2, 1.0) == 0.0;
}

bool ValidMode(const Json& v) {
  return v.is_string() && (v == "off" || v == "heat" || v == "auto");
}

// Minutes since midnight for "HH:MM", or -1.
int ParseTime(const Json& v) {
  if (!v.is_string()) return -1;
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() != 5 || s[2] != ':') return -1;
  for (int i : {0, 1, 3, 4}) {
    if (s[i] < '0' || s[i] > '9') return -1;
  }
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return -1;
  return h * 60 + m;
}

bool ValidSchedule(const Json& v) {
  if (!v.is_object() || v.size() != 7) return false;
  for (const char* d : kDays) {
    auto day = v.find(d);
    if (day == v.end() || !day->is_array() || day->size() > 8) return false;
    for (const auto& e : *day) {
      if (!e.is_object() || e.size() != 2 || !e.contains("time") ||
          !e.contains("setpoint") || ParseTime(e["time"]) < 0 ||
          !ValidSetpoint(e["setpoint"])) {
        return false;
      }
    }
  }
  return true;
}

Json DefaultSchedule() {
  Json schedule = Json::object();
  for (const char* d : kDays) {
    schedule[d] = Json::array({{{"time", "07:00"}, {"setpoint", 21}},
                               {{"time", "22:30"}, {"setpoint", 17}}});
  }
  return schedule;
}

struct Settings {
  double setpoint = 20;
  std::string mode = "heat";
  Json schedule = DefaultSchedule();

  // What the settings file keeps: the schedule is personal data and lives
  // in the data store.
  Json FileJson() const { return {{"setpoint", setpoint}, {"mode", mode}}; }
};

class Thermostat {
 public:
  explicit Thermostat(std::optional<std::string> state_dir) {
    if (state_dir) path_ = *state_dir + "/thermostat.json";
    Load();
    temperature_ = 17;
  }

  // Takes the schedule kept in the data store, if there is one.
  void LoadSchedule(warden::sdk::App& app) {
    app_ = &app;
    std::string error;
    int64_t after = 0;
    for (;;) {
      auto page = app.ListRecords(kScheduleKind, after, 0, &error);
      if (!page || page->empty()) break;
      after = page->back().id;
    }
    if (after == 0) return;
    auto record = app.ReadRecord(kScheduleKind, after, &error);
    if (!record) return;
    Json saved = Json::parse(record->value, nullptr, false);
    if (ValidSchedule(saved)) {
      settings_.schedule = std::move(saved);
      schedule_record_ = after;
    }
  }

  // All personal data was deleted: the schedule is the default again.
  void ForgetSchedule() {
    settings_.schedule = DefaultSchedule();
    schedule_record_ = 0;
  }

  // Keeps one reading in the history.
  bool RecordTemperature(std::string* error) {
    if (app_ == nullptr) return true;
    Json reading = {{"t", static_cast<int64_t>(std::time(nullptr))},
                    {"c", Temperature()}};
    return app_->WriteRecord(kHistoryKind, reading.dump(), error).has_value();
  }

  // Applies an owner's change: saved first, so a change that cannot be kept
  // is refused and nothing changes.
  bool Apply(const std::string& key, const Json& value, std::string* error) {
    Settings next = settings_;
    if (key == "setpoint" && ValidSetpoint(value)) {
      next.setpoint = value.get<double>();
    } else if (key == "mode" && ValidMode(value)) {
      next.mode = value.get<std::string>();
    } else if (key == "schedule" && ValidSchedule(value)) {
      return ApplySchedule(value, error);
    } else {
      *error = "invalid value for " + key;
      return false;
    }
    if (!Save(next, error)) return false;
    settings_ = std::move(next);
    return true;
  }

  // Advances the simulation by `seconds`.
  void Step(double seconds) {
    std::optional<double> target = Target();
    if (!target) {
      heating_ = false;
    } else if (temperature_ < *target - kHysteresis) {
      heating_ = true;
    } else if (temperature_ > *target + kHysteresis) {
      heating_ = false;
    }
    if (heating_) {
      temperature_ += 0.05 * seconds;  // 3 °C a minute
    } else {
      temperature_ += (kOutside - temperature_) * 0.002 * seconds;
    }
  }

  Json Temperature() const { return std::round(temperature_ * 10) / 10; }
  bool heating() const { return heating_; }
  const Settings& settings() const { return settings_; }

 private:
  // The temperature to hold now; nullopt when off.
  std::optional<double> Target() const {
    if (settings_.mode == "off") return std::nullopt;
    if (settings_.mode == "heat") return settings_.setpoint;
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    int minute = local.tm_hour * 60 + local.tm_min;
    // The last switch point at or before now, looking back up to a week.
    for (int back = 0; back < 8; ++back) {
      const Json& day =
          settings_.schedule[kDays[(local.tm_wday + 7 - back) % 7]];
      int best = -1;
      double setpoint = 0;
      for (const auto& e : day) {
        int t = ParseTime(e["time"]);
        if ((back > 0 || t <= minute) && t >= best) {
          best = t;
          setpoint = e["setpoint"].get<double>();
        }
      }
      if (best >= 0) return setpoint;
    }
    return settings_.setpoint;  // an empty schedule holds the setpoint
  }

  // The new schedule is written before the old record goes, so a failure
  // leaves one of them.
  bool ApplySchedule(const Json& value, std::string* error) {
    if (app_ == nullptr) {
      settings_.schedule = value;
      return true;
    }
    std::string why;
    auto id = app_->WriteRecord(kScheduleKind, value.dump(), &why);
    if (!id) {
      *error = "cannot keep the schedule: " + why;
      return false;
    }
    if (schedule_record_ != 0) {
      app_->EraseRecord(kScheduleKind, schedule_record_, &why);
    }
    schedule_record_ = *id;
    settings_.schedule = value;
    return true;
  }

  void Load() {
    if (path_.empty()) return;
    std::string error;
    std::optional<std::string> text =
        warden::sdk::ReadSmallFile(path_, kMaxSettingsFile, &error);
    if (!text) return;  // first start: defaults
    Json saved = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (!saved.is_object()) {
      std::fprintf(stderr, "thermostat: ignoring unreadable %s\n",
                   path_.c_str());
      return;
    }
    if (saved.contains("setpoint") && ValidSetpoint(saved["setpoint"])) {
      settings_.setpoint = saved["setpoint"].get<double>();
    }
    if (saved.contains("mode") && ValidMode(saved["mode"])) {
      settings_.mode = saved["mode"].get<std::string>();
    }
    if (saved.contains("schedule")) {
      // An older version kept the schedule here: it moves to the data
      // store, and the file is rewritten without it.
      if (ValidSchedule(saved["schedule"])) {
        legacy_schedule_ = saved["schedule"];
      }
      std::string why;
      Save(settings_, &why);
    }
  }

 public:
  std::optional<Json> TakeLegacySchedule() {
    std::optional<Json> s = std::move(legacy_schedule_);
    legacy_schedule_.reset();
    return s;
  }

 private:
  bool Save(const Settings& s, std::string* error) {
    if (path_.empty()) return true;  // nowhere to keep it: memory only
    std::string why;
    if (!warden::sdk::WriteFileAtomic(path_, s.FileJson().dump(), &why)) {
      *error = "cannot save settings: " + why;
      return false;
    }
    return true;
  }

  std::string path_;
  warden::sdk::App* app_ = nullptr;
  int64_t schedule_record_ = 0;  // the record holding the schedule
  std::optional<Json> legacy_schedule_;
  Settings settings_;
  double temperature_ = 17;
  bool heating_ = false;
};

bool PublishAll(warden::sdk::App& app, const Thermostat& t,
                std::string* error) {
  const Settings& s = t.settings();
  return app.Publish("temperature", t.Temperature(), error) &&
         app.Publish("heating", t.heating(), error) &&
         app.Publish("setpoint", s.setpoint, error) &&
         app.Publish("mode", s.mode, error) &&
         app.Publish("schedule", s.schedule, error);
}

}  // namespace

int main() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  struct sigaction button {};
  button.sa_handler = OnButton;
  sigemptyset(&button.sa_mask);
  sigaction(SIGUSR1, &button, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::string error;
  std::optional<warden::sdk::App> app =
      warden::sdk::App::FromEnvironment(&error);
  if (!app) {
    std::fprintf(stderr, "thermostat: %s\n", error.c_str());
    return 1;
  }
  Thermostat thermostat(warden::sdk::StateDir());

  app->Declare({"temperature",
                "Room temperature in °C",
                false,
                {{"type", "number"}, {"minimum", -50}, {"maximum", 100}}});
  app->Declare(
      {"heating", "Whether the heater is on", false, {{"type", "boolean"}}});
  app->Declare({"setpoint", "Target temperature in °C for heat mode", true,
                SetpointSchema()});
  app->Declare({"mode",
                "off, heat (hold the setpoint) or auto (follow the schedule)",
                true,
                {{"type", "string"}, {"enum", {"off", "heat", "auto"}}}});
  app->Declare({"schedule", "Weekly switch points for auto mode", true,
                ScheduleSchema()});
  app->DeclareData({kScheduleKind, "usage",
                    "The weekly heating schedule, to heat the home when its "
                    "people want it warm",
                    366LL * 24 * 3600, false},
                   &error);
  app->DeclareData({kHistoryKind, "sensor",
                    "Room temperatures once a minute, to show the owner how "
                    "the home heats and cools",
                    30LL * 24 * 3600, false},
                   &error);

  warden::sdk::App* app_ptr = &*app;
  app->OnCommand([&thermostat, app_ptr](const std::string& key,
                                        const Json& value, std::string* why) {
    if (!thermostat.Apply(key, value, why)) return false;
    // Publish before answering so the owner reads the new value back.
    std::string publish_error;
    app_ptr->Publish(key, value, &publish_error);
    return true;
  });
  app->OnDataDeleted([&thermostat, app_ptr] {
    thermostat.ForgetSchedule();
    std::string publish_error;
    app_ptr->Publish("schedule", thermostat.settings().schedule,
                     &publish_error);
  });
  app->OnRefusal([](const std::string& message) {
    std::fprintf(stderr, "thermostat: wardend refused: %s\n", message.c_str());
  });

  if (!app->Start("thermostat", "1.0.0", &error)) {
    std::fprintf(stderr, "thermostat: %s\n", error.c_str());
    return 1;
  }
  thermostat.LoadSchedule(*app);
  if (std::optional<Json> legacy = thermostat.TakeLegacySchedule()) {
    if (!thermostat.Apply("schedule", *legacy, &error)) {
      std::fprintf(stderr, "thermostat: %s\n", error.c_str());
    }
  }
  if (!thermostat.RecordTemperature(&error)) {
    std::fprintf(stderr, "thermostat: temperature history: %s\n",
                 error.c_str());
  }
  if (!PublishAll(*app, thermostat, &error)) {
    std::fprintf(stderr, "thermostat: %s\n", error.c_str());
    return 1;
  }

  using Steady = std::chrono::steady_clock;
  Steady::time_point last_step = Steady::now();
  Steady::time_point last_publish = last_step;
  Steady::time_point last_history = last_step;
  bool was_heating = thermostat.heating();
  while (!g_stop) {
    if (!app->ProcessPending(kTickMs, &error)) {
      std::fprintf(stderr, "thermostat: %s\n", error.c_str());
      break;
    }
    Steady::time_point now = Steady::now();
    thermostat.Step(std::chrono::duration<double>(now - last_step).count());
    last_step = now;
    bool changed = thermostat.heating() != was_heating;
    was_heating = thermostat.heating();
    if (changed || now - last_publish >= kPublishEvery) {
      last_publish = now;
      if (!app->Publish("temperature", thermostat.Temperature(), &error) ||
          !app->Publish("heating", thermostat.heating(), &error)) {
        std::fprintf(stderr, "thermostat: %s\n", error.c_str());
        break;
      }
    }
    if (g_button) {
      g_button = 0;
      std::optional<std::string> receipt = app->DeleteAllPersonalData(&error);
      std::optional<std::string> dir = warden::sdk::StateDir();
      if (!receipt) {
        std::fprintf(stderr, "thermostat: deletion: %s\n", error.c_str());
      } else if (dir &&
                 !warden::sdk::WriteFileAtomic(*dir + "/deletion-receipt.json",
                                               *receipt, &error)) {
        std::fprintf(stderr, "thermostat: keeping the receipt: %s\n",
                     error.c_str());
      }
    }
    if (now - last_history >= kHistoryEvery) {
      last_history = now;
      if (!thermostat.RecordTemperature(&error)) {
        std::fprintf(stderr, "thermostat: temperature history: %s\n",
                     error.c_str());
      }
    }
  }
  return 0;
}
