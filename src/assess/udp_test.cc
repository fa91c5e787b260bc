#include "assess/udp.h"

#include <gtest/gtest.h>

namespace warden::assess {
namespace {

ByteView B(std::string_view s) { return AsBytes(s); }

TEST(Udp, SsdpAnswerIsSummarised) {
  Result<std::string> r = ParseSsdpReply(
      B("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: upnp:rootdevice"
        "\r\nUSN: uuid:1::upnp:rootdevice\r\nSERVER: Linux UPnP/1.0 cam/1\r\n"
        "LOCATION: http://10.0.0.5:49152/desc.xml\r\n\r\n"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r,
            "SERVER Linux UPnP/1.0 cam/1; ST upnp:rootdevice; USN "
            "uuid:1::upnp:rootdevice; LOCATION http://10.0.0.5:49152/desc.xml");
  EXPECT_FALSE(ParseSsdpReply(B("M-SEARCH * HTTP/1.1\r\n\r\n")).ok());
}

// A responder's answer to the query, names compressed.
Bytes MdnsAnswer(uint16_t id) {
  Bytes q = MdnsServicesQuery(id);
  q[2] = 0x84;  // response, authoritative
  q[7] = 1;     // one answer
  const uint8_t rr[] = {0xc0, 12, 0, 12,  0,   1,   0,   0,   0,    10,
                        0,    7,  5, '_', 'h', 't', 't', 'p', 0xc0, 22};
  q.insert(q.end(), std::begin(rr), std::end(rr));
  return q;
}

TEST(Udp, MdnsAnswerNamesItsServices) {
  Result<std::string> r = ParseMdnsReply(MdnsAnswer(0x1234), 0x1234);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r,
            "1 records: _services._dns-sd._udp.local PTR "
            "_http._dns-sd._udp.local;");
  // Another id, or our own query reflected, is not an answer.
  EXPECT_FALSE(ParseMdnsReply(MdnsAnswer(0x1234), 0x4321).ok());
  EXPECT_FALSE(ParseMdnsReply(MdnsServicesQuery(7), 7).ok());
}

TEST(Udp, MdnsCompressionLoopsEnd) {
  Bytes q = MdnsAnswer(9);
  // The answer's name points at itself.
  const size_t at = MdnsServicesQuery(9).size();
  q[at] = 0xc0;
  q[at + 1] = static_cast<uint8_t>(at);
  EXPECT_FALSE(ParseMdnsReply(q, 9).ok());
}

TEST(Udp, CoapResourcesAreRead) {
  Bytes a = {0x62, 0x45, 0x12, 0x34, 0x12, 0x34,  // ACK 2.05, token
             0xc1, 0x28,                          // Content-Format 40
             0xff};
  const std::string links = "</sensors/temp>;rt=\"temperature\"";
  a.insert(a.end(), links.begin(), links.end());
  Result<std::string> r = ParseCoapReply(a, 0x1234);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, "CoAP 2.05: " + links);
  EXPECT_FALSE(ParseCoapReply(a, 0x9999).ok());
  // Our own request reflected is not an answer.
  EXPECT_FALSE(ParseCoapReply(CoapGetWellKnownCore(0x1234), 0x1234).ok());
  // An option longer than the datagram.
  Bytes bad = {0x62, 0x45, 0x12, 0x34, 0x12, 0x34, 0xde, 0xff, 0xff};
  EXPECT_FALSE(ParseCoapReply(bad, 0x1234).ok());
}

TEST(Udp, AnUndeclaredServiceFails) {
  UdpProbe coap;
  coap.service = UdpService::kCoap;
  coap.state = UdpProbe::State::kAnswered;
  coap.detail = "CoAP 2.05: </>";
  UdpProbe ssdp;
  ssdp.service = UdpService::kSsdp;
  ssdp.state = UdpProbe::State::kClosed;
  Declaration decl;
  decl.services.push_back({8443, "https", ""});
  TestGroup g = JudgeUdp({coap, ssdp}, decl);
  ASSERT_EQ(g.units.size(), 2u);
  EXPECT_EQ(g.units[0].verdict, Verdict::kPass);
  EXPECT_EQ(g.units[1].id, "services.udp.5683.declared");
  EXPECT_EQ(g.units[1].verdict, Verdict::kFail);
  decl.services.push_back({5683, "coap", "sensor readings"});
  EXPECT_EQ(JudgeUdp({coap}, decl).units[1].verdict, Verdict::kPass);
}

}  // namespace
}  // namespace warden::assess
