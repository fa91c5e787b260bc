#include "assess/label.h"

#include <cairo.h>
#include <librsvg/rsvg.h>

#include <exception>
#include <memory>

#include "assess/report.h"
#include "crypto/hash.h"
#include "qr/qr.h"

namespace warden::assess {
namespace {

using Json = nlohmann::json;

constexpr int kWidth = 600;
constexpr int kHeight = 900;
constexpr int kQrModule = 4;  // pixels per module at scale 1
constexpr int kQrQuiet = qr::kQuietZone;
constexpr std::string_view kNotAssessed = "NOT ASSESSED";
constexpr std::string_view kMetadataOpen = "<metadata id=\"warden-label\">";
constexpr std::string_view kMetadataClose = "</metadata>";

std::string Str(const Json& j, std::string_view key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

// Length of the valid UTF-8 sequence at `s[i]`, or 0.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  uint32_t cp = 0;
  if (b < 0x80) return 1;
  if ((b & 0xe0) == 0xc0) {
    n = 2;
    cp = b & 0x1f;
  } else if ((b & 0xf0) == 0xe0) {
    n = 3;
    cp = b & 0x0f;
  } else if ((b & 0xf8) == 0xf0) {
    n = 4;
    cp = b & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3f);
  }
  const uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

// The QR code's dark modules as one SVG path, in module units with the
// quiet zone included, and the drawing's size in modules.
Result<std::pair<std::string, int>> QrPath(const std::string& payload) {
  WARDEN_ASSIGN_OR_RETURN(qr::Matrix code, qr::Encode(payload));
  return std::make_pair(qr::SvgPath(code, kQrQuiet), code.width + 2 * kQrQuiet);
}

std::string LabelVerdict(std::string_view report_verdict) {
  if (report_verdict == "PASS" || report_verdict == "FAIL") {
    return std::string(report_verdict);
  }
  return std::string(kNotAssessed);
}

const char* LevelName(int level) {
  switch (level) {
    case 3:
      return "All thirteen guidelines verified";
    case 2:
      return "Conforming, PSTI baseline verified";
    case 1:
      return "Conforming";
    default:
      return "Not conforming";
  }
}

const char* VerdictColour(std::string_view v) {
  if (v == "PASS") return "#1a7f37";
  if (v == "FAIL") return "#cf222e";
  return "#6e7781";
}

std::string Text(int x, int y, int size, std::string_view body,
                 std::string_view extra = "") {
  std::string out = "<text x=\"" + std::to_string(x) + "\" y=\"" +
                    std::to_string(y) + "\" font-size=\"" +
                    std::to_string(size) + "\"";
  if (!extra.empty()) out += " " + std::string(extra);
  out += ">" + std::string(body) + "</text>\n";
  return out;
}

Json MetadataJson(const LabelFacts& f) {
  Json verdicts = Json::array();
  for (const std::string& v : f.verdicts) verdicts.push_back(v);
  return {{"format", "warden-label/1"},
          {"report_sha256", f.digest},
          {"verdicts", verdicts},
          {"level", f.level}};
}

std::string XmlUnescape(std::string_view s, bool& ok) {
  std::string out;
  ok = true;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 6) {
      ok = false;
      return "";
    }
    const std::string_view name = s.substr(i + 1, semi - i - 1);
    if (name == "amp") {
      out += '&';
    } else if (name == "lt") {
      out += '<';
    } else if (name == "gt") {
      out += '>';
    } else if (name == "quot") {
      out += '"';
    } else if (name == "apos") {
      out += '\'';
    } else {
      ok = false;
      return "";
    }
    i = semi;
  }
  return out;
}

cairo_status_t AppendPng(void* closure, const unsigned char* data,
                         unsigned int length) {
  auto* out = static_cast<Bytes*>(closure);
  out->insert(out->end(), data, data + length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

std::string XmlText(std::string_view text, size_t limit) {
  std::string out;
  size_t i = 0;
  for (; i < text.size() && i < limit;) {
    const size_t n = Utf8Length(text, i);
    if (n == 0) {
      out += '?';
      ++i;
      continue;
    }
    if (i + n > limit) break;
    const char c = text[i];
    if (n > 1) {
      out.append(text.substr(i, n));
    } else if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else if (c == '"') {
      out += "&quot;";
    } else if (c == '\'') {
      out += "&apos;";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += c;
    }
    i += n;
  }
  if (i < text.size()) out += "...";
  return out;
}

Result<std::string> ReportDigest(const Json& report) {
  try {
    const std::string canonical = report.dump();
    return HexEncode(crypto::Sha256(AsBytes(canonical)));
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("report is not canonical: ") +
                                e.what());
  }
}

std::string QrPayload(std::string_view digest) {
  return "warden-report:sha256:" + std::string(digest);
}

Result<LabelFacts> LabelFactsFromReport(const Json& report) {
  if (!report.is_object() || Str(report, "format") != "warden-assessment/1") {
    return InvalidArgumentError(
        "not a Warden assessment report (format warden-assessment/1)");
  }
  auto rows = report.find("guidelines");
  if (rows == report.end() || !rows->is_array() || rows->size() != 13) {
    return InvalidArgumentError("report: \"guidelines\" must have 13 rows");
  }
  LabelFacts f;
  WARDEN_ASSIGN_OR_RETURN(f.digest, ReportDigest(report));
  std::array<bool, 13> seen{};
  bool any_fail = false, all_pass = true;
  for (const Json& row : *rows) {
    if (!row.is_object() || !row.contains("guideline") ||
        !row["guideline"].is_number_integer()) {
      return InvalidArgumentError("report: a guideline row has no number");
    }
    const int64_t g = row["guideline"].get<int64_t>();
    const std::string v = Str(row, "verdict");
    if (g < 1 || g > 13 || seen[static_cast<size_t>(g - 1)]) {
      return InvalidArgumentError("report: guideline numbers must be 1..13");
    }
    if (v != "PASS" && v != "FAIL" && v != "INCONCLUSIVE" &&
        v != "NOT APPLICABLE") {
      return InvalidArgumentError("report: guideline " + std::to_string(g) +
                                  " has no verdict");
    }
    seen[static_cast<size_t>(g - 1)] = true;
    f.verdicts[static_cast<size_t>(g - 1)] = LabelVerdict(v);
    any_fail = any_fail || v == "FAIL";
    all_pass = all_pass && v == "PASS";
  }
  const auto conforming = report.find("conforming");
  const bool conforms = conforming != report.end() &&
                        conforming->is_boolean() && conforming->get<bool>();
  if (any_fail || !conforms) {
    f.level = 0;
  } else if (all_pass) {
    f.level = 3;
  } else if (f.verdicts[0] == "PASS" && f.verdicts[1] == "PASS" &&
             f.verdicts[2] == "PASS") {
    f.level = 2;
  } else {
    f.level = 1;
  }
  f.level_name = LevelName(f.level);
  f.address = Str(report, "address");
  f.assessed_at = Str(report, "started_at");
  f.device = Str(report, "target");
  const auto device = report.find("device");
  if (device != report.end() && device->is_object()) {
    if (const std::string p = Str(*device, "product"); !p.empty()) {
      f.device = p;
    }
    f.support_until = Str(*device, "support_until");
    f.support_source = Str(*device, "support_until_source");
    f.contact = Str(*device, "contact");
    f.contact_source = Str(*device, "contact_source");
  }
  return f;
}

Result<std::string> RenderLabelSvg(const LabelFacts& f) {
  WARDEN_ASSIGN_OR_RETURN(auto qr, QrPath(QrPayload(f.digest)));
  const std::string w = std::to_string(kWidth), h = std::to_string(kHeight);
  std::string s =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" +
      w + "\" height=\"" + h + "\" viewBox=\"0 0 " + w + " " + h +
      "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n";
  s += "<title>Security label: " + XmlText(f.device, 80) + "</title>\n";
  s += std::string(kMetadataOpen) + XmlText(MetadataJson(f).dump()) +
       std::string(kMetadataClose) + "\n";
  s += "<rect width=\"" + w + "\" height=\"" + h +
       "\" fill=\"#ffffff\" stroke=\"#1f2328\" stroke-width=\"4\"/>\n";
  s += "<rect x=\"2\" y=\"2\" width=\"596\" height=\"74\" fill=\"#1f2328\"/>\n";
  s += Text(20, 38, 26, "SECURITY LABEL",
            "font-weight=\"bold\" fill=\"#ffffff\"");
  s += Text(20, 62, 12,
            "UK Code of Practice for Consumer IoT Security, ETSI EN 303 645",
            "fill=\"#ffffff\"");

  struct Row {
    const char* name;
    std::string value;
  };
  const std::string support =
      f.support_until.empty()
          ? "not declared"
          : XmlText(f.support_until, 40) +
                (f.support_source.empty()
                     ? ""
                     : " (" + XmlText(f.support_source, 30) + ")");
  const std::string contact =
      f.contact.empty()
          ? "none found"
          : XmlText(f.contact, 44) +
                (f.contact_source.empty()
                     ? ""
                     : " (" + XmlText(f.contact_source, 20) + ")");
  const Row rows[] = {
      {"Device", XmlText(f.device, 48)},
      {"Address", XmlText(f.address, 48)},
      {"Assessed", XmlText(f.assessed_at, 48)},
      {"Supported until", support},
      {"Report flaws to", contact},
  };
  int y = 104;
  for (const Row& r : rows) {
    s += Text(20, y, 13, r.name, "font-weight=\"bold\"");
    s += Text(150, y, 13, r.value);
    y += 24;
  }

  const bool good = f.level > 0;
  s += "<rect x=\"20\" y=\"228\" width=\"560\" height=\"50\" rx=\"6\" "
       "fill=\"" +
       std::string(good ? "#dafbe1" : "#ffebe9") + "\" stroke=\"" +
       (good ? "#1a7f37" : "#cf222e") + "\" stroke-width=\"2\"/>\n";
  s += Text(36, 260, 20,
            "Level " + std::to_string(f.level) + ": " + XmlText(f.level_name),
            "font-weight=\"bold\"");

  y = 310;
  for (const Crosswalk& c : CrosswalkTable()) {
    const std::string& v = f.verdicts[static_cast<size_t>(c.guideline - 1)];
    s += Text(24, y, 12, std::to_string(c.guideline), "font-weight=\"bold\"");
    s += Text(52, y, 12, XmlText(c.title));
    s += "<rect x=\"452\" y=\"" + std::to_string(y - 15) +
         "\" width=\"128\" height=\"21\" rx=\"4\" fill=\"" + VerdictColour(v) +
         "\"/>\n";
    s += Text(516, y, 12, XmlText(v),
              "text-anchor=\"middle\" font-weight=\"bold\" fill=\"#ffffff\"");
    y += 26;
  }

  const int qr_size = qr.second * kQrModule;
  const int qr_y = kHeight - 20 - qr_size;
  s += "<g transform=\"translate(20 " + std::to_string(qr_y) + ") scale(" +
       std::to_string(kQrModule) + ")\" shape-rendering=\"crispEdges\">\n";
  s += "<rect width=\"" + std::to_string(qr.second) + "\" height=\"" +
       std::to_string(qr.second) + "\" fill=\"#ffffff\"/>\n";
  s += "<path id=\"qr\" fill=\"#000000\" d=\"" + qr.first + "\"/>\n</g>\n";
  const int tx = 40 + qr_size;
  int ty = qr_y + 30;
  s +=
      Text(tx, ty, 12,
           "The QR code is the SHA-256 of the report:", "font-weight=\"bold\"");
  ty += 20;
  s += Text(tx, ty, 11, XmlText(f.digest.substr(0, 32)),
            "font-family=\"DejaVu Sans Mono, monospace\"");
  ty += 16;
  s +=
      Text(tx, ty, 11, XmlText(f.digest.size() > 32 ? f.digest.substr(32) : ""),
           "font-family=\"DejaVu Sans Mono, monospace\"");
  ty += 28;
  s += Text(tx, ty, 11, "Check it: warden label verify label.svg report.json");
  ty += 22;
  s += Text(tx, ty, 11, "PASS or FAIL: what the device showed under test.");
  ty += 16;
  s += Text(tx, ty, 11, "NOT ASSESSED: no test decided it; a maker's");
  ty += 16;
  s += Text(tx, ty, 11, "declaration alone never makes a PASS.");
  s += "</svg>\n";
  return s;
}

Result<Bytes> RenderLabelPng(std::string_view svg, double scale) {
  if (!(scale > 0 && scale <= 8)) {
    return InvalidArgumentError("label scale must be in (0, 8]");
  }
  GError* error = nullptr;
  RsvgHandle* handle = rsvg_handle_new_from_data(
      reinterpret_cast<const guint8*>(svg.data()), svg.size(), &error);
  if (handle == nullptr) {
    std::string why = error ? error->message : "unknown error";
    if (error) g_error_free(error);
    return InvalidArgumentError("librsvg cannot read the label: " + why);
  }
  std::unique_ptr<RsvgHandle, void (*)(gpointer)> owned(handle, g_object_unref);
  gdouble w = 0, h = 0;
  if (!rsvg_handle_get_intrinsic_size_in_pixels(handle, &w, &h) || w < 1 ||
      h < 1 || w * scale > 8192 || h * scale > 8192) {
    return InvalidArgumentError("the label has no usable size");
  }
  const int pw = static_cast<int>(w * scale + 0.5);
  const int ph = static_cast<int>(h * scale + 0.5);
  std::unique_ptr<cairo_surface_t, void (*)(cairo_surface_t*)> surface(
      cairo_image_surface_create(CAIRO_FORMAT_ARGB32, pw, ph),
      cairo_surface_destroy);
  std::unique_ptr<cairo_t, void (*)(cairo_t*)> cr(cairo_create(surface.get()),
                                                  cairo_destroy);
  const RsvgRectangle viewport{0, 0, static_cast<double>(pw),
                               static_cast<double>(ph)};
  if (!rsvg_handle_render_document(handle, cr.get(), &viewport, &error)) {
    std::string why = error ? error->message : "unknown error";
    if (error) g_error_free(error);
    return InternalError("librsvg cannot render the label: " + why);
  }
  cairo_surface_flush(surface.get());
  Bytes png;
  if (cairo_surface_write_to_png_stream(surface.get(), AppendPng, &png) !=
      CAIRO_STATUS_SUCCESS) {
    return InternalError("cairo cannot write the label as PNG");
  }
  return png;
}

Result<Json> ReadLabelMetadata(std::string_view svg) {
  if (svg.size() > kMaxLabelBytes) {
    return InvalidArgumentError("label larger than " +
                                std::to_string(kMaxLabelBytes) + " bytes");
  }
  const size_t open = svg.find(kMetadataOpen);
  if (open == std::string_view::npos) {
    return InvalidArgumentError("not a Warden label: no warden-label metadata");
  }
  const size_t start = open + kMetadataOpen.size();
  if (svg.find(kMetadataOpen, start) != std::string_view::npos) {
    return InvalidArgumentError("label has more than one warden-label element");
  }
  const size_t close = svg.find(kMetadataClose, start);
  if (close == std::string_view::npos ||
      close - start > kMaxLabelMetadataBytes) {
    return InvalidArgumentError("label metadata unterminated or too long");
  }
  bool ok = false;
  const std::string text = XmlUnescape(svg.substr(start, close - start), ok);
  if (!ok) return InvalidArgumentError("label metadata: unknown XML entity");
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("report_sha256") ||
      !j["report_sha256"].is_string() || !j.contains("verdicts") ||
      !j["verdicts"].is_array() || j["verdicts"].size() != 13 ||
      !j.contains("level") || !j["level"].is_number_integer()) {
    return InvalidArgumentError(
        "label metadata is not JSON with report_sha256, 13 verdicts and "
        "level");
  }
  for (const Json& v : j["verdicts"]) {
    if (!v.is_string()) {
      return InvalidArgumentError("label metadata: a verdict is not text");
    }
  }
  return j;
}

Result<LabelCheck> VerifyLabel(std::string_view svg, const Json& report) {
  WARDEN_ASSIGN_OR_RETURN(Json meta, ReadLabelMetadata(svg));
  WARDEN_ASSIGN_OR_RETURN(LabelFacts facts, LabelFactsFromReport(report));
  LabelCheck check;
  const std::string label_digest = meta["report_sha256"].get<std::string>();
  check.digest_matches = label_digest == facts.digest;
  if (!check.digest_matches) {
    check.problems.push_back("the label's digest " + XmlText(label_digest, 80) +
                             " is not the report's " + facts.digest);
  }
  WARDEN_ASSIGN_OR_RETURN(auto qr, QrPath(QrPayload(facts.digest)));
  check.qr_matches = svg.find("<path id=\"qr\" fill=\"#000000\" d=\"" +
                              qr.first + "\"/>") != std::string_view::npos;
  if (!check.qr_matches) {
    check.problems.push_back(
        "the label's QR code does not carry the report's digest");
  }
  check.verdicts_match = meta["level"].get<int64_t>() == facts.level;
  for (size_t i = 0; i < 13; ++i) {
    if (meta["verdicts"][i].get<std::string>() != facts.verdicts[i]) {
      check.verdicts_match = false;
      check.problems.push_back(
          "guideline " + std::to_string(i + 1) + ": the label says " +
          XmlText(meta["verdicts"][i].get<std::string>(), 40) +
          ", the report " + facts.verdicts[i]);
    }
  }
  if (meta["level"].get<int64_t>() != facts.level) {
    check.problems.push_back("the label's level is not the report's (" +
                             std::to_string(facts.level) + ")");
  }
  WARDEN_ASSIGN_OR_RETURN(std::string expected, RenderLabelSvg(facts));
  check.text_matches = svg == expected;
  if (!check.text_matches) {
    check.problems.push_back(
        "the label's text differs from the label of this report");
  }
  return check;
}

}  // namespace warden::assess
