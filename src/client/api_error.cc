#include "client/api_error.h"

#include <algorithm>
#include <boost/asio/buffer.hpp>

namespace warden::client {

namespace http = web::http;

void LimitReplyParser(ReplyParser& parser, const web::HttpLimits& limits) {
  parser.header_limit(static_cast<std::uint32_t>(
      std::min<size_t>(limits.header_bytes, UINT32_MAX)));
  parser.body_limit(limits.body_bytes);
}

Status CheckReplyHeader(const web::Response& reply,
                        const web::HttpLimits& limits) {
  size_t fields = 0;
  for (auto it = reply.begin(); it != reply.end(); ++it) {
    if (++fields > limits.header_fields) {
      return ResourceExhaustedError("reply has more than " +
                                    std::to_string(limits.header_fields) +
                                    " header fields");
    }
  }
  return Status::Ok();
}

Result<web::Response> ParseReply(std::string_view wire,
                                 const web::HttpLimits& limits) {
  ReplyParser parser;
  LimitReplyParser(parser, limits);
  parser.eager(true);
  boost::system::error_code ec;
  while (!wire.empty() && !parser.is_done()) {
    size_t used = parser.put(boost::asio::buffer(wire.data(), wire.size()), ec);
    if (ec == http::error::need_more) {
      // The rest of the input is not a whole element yet: it is what the
      // device sent before closing.
      ec = {};
      break;
    }
    if (ec) break;
    wire.remove_prefix(used);
    if (used == 0) break;
  }
  if (!parser.got_some()) return UnavailableError("empty reply");
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec == http::error::header_limit || ec == http::error::body_limit) {
    return ResourceExhaustedError("reply over the limit (" + ec.message() +
                                  ")");
  }
  if (ec || !parser.is_done()) {
    return UnavailableError("malformed or incomplete reply" +
                            (ec ? " (" + ec.message() + ")" : std::string()));
  }
  web::Response reply = parser.release();
  WARDEN_TRY(CheckReplyHeader(reply, limits));
  return reply;
}

Result<schema::Json> ReplyJson(const web::Response& reply,
                               const web::HttpLimits& limits) {
  Result<schema::Json> j = schema::ParseJson(reply.body(), limits.json);
  if (!j.ok()) {
    return UnavailableError("device sent malformed JSON: " +
                            Printable(j.status().message()));
  }
  return j;
}

std::string Printable(std::string_view text, size_t max) {
  std::string out;
  out.reserve(std::min(text.size(), max));
  for (char c : text) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    unsigned char u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  return out;
}

Status StatusFromResponse(const web::Response& reply, std::string_view context,
                          const web::HttpLimits& limits) {
  unsigned s = reply.result_int();
  if (s >= 200 && s < 300) return Status::Ok();

  std::string message;
  std::string field;
  std::string rule;
  Result<schema::Json> body = ReplyJson(reply, limits);
  if (body.ok() && body->is_object()) {
    auto e = body->find("error");
    if (e != body->end() && e->is_object()) {
      auto text = [&](const char* key) {
        auto it = e->find(key);
        return it != e->end() && it->is_string()
                   ? Printable(it->get_ref<const std::string&>())
                   : std::string();
      };
      message = text("message");
      field = text("field");
      rule = text("rule");
    }
  }
  if (message.empty()) message = "HTTP status " + std::to_string(s);

  Code code;
  switch (s) {
    case 400:
    case 405:
    case 413:
    case 415:
      code = Code::kInvalidArgument;
      break;
    case 401:
      code = Code::kUnauthenticated;
      break;
    case 403:
      code = Code::kPermissionDenied;
      break;
    case 404:
      code = Code::kNotFound;
      break;
    case 409:
      code = Code::kFailedPrecondition;
      break;
    case 414:
    case 429:
    case 431:
      code = Code::kResourceExhausted;
      break;
    case 503:
      code = Code::kUnavailable;
      break;
    case 504:
      code = Code::kDeadlineExceeded;
      break;
    default:
      code = Code::kInternal;
      break;
  }
  std::string text = Printable(context, 256);
  if (!text.empty()) text += ": ";
  if (!field.empty()) text += field + ": ";
  text += message;
  if (!rule.empty()) text += " (" + rule + ")";
  if (s == 429) {
    auto it = reply.find(http::field::retry_after);
    std::string_view after =
        it == reply.end() ? std::string_view() : it->value();
    bool digits = !after.empty() && after.size() <= 9 &&
                  after.find_first_not_of("0123456789") == std::string::npos;
    text +=
        digits ? "; retry after " + std::string(after) + " s" : "; retry later";
  }
  return Status(code, std::move(text));
}

}  // namespace warden::client
