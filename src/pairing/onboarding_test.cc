#include "pairing/onboarding.h"

#include <gtest/gtest.h>

#include <string>

namespace warden::pairing {
namespace {

SetupPayload TestDevice() {
  // The Matter SDK's well-known test device.
  SetupPayload p;
  p.vendor_id = 0xFFF1;
  p.product_id = 0x8000;
  p.commissioning_flow = kFlowStandard;
  p.rendezvous = kRendezvousBle;
  p.discriminator = 3840;
  p.passcode = 20202021;
  return p;
}

TEST(ManualCode, KnownAnswers) {
  EXPECT_EQ(EncodeManualCode(TestDevice()), "34970112332");

  SetupPayload p;
  p.discriminator = 2976;
  p.passcode = 34567890;
  EXPECT_EQ(EncodeManualCode(p), "26318621095");

  p.discriminator = 250;
  p.passcode = 123456;
  EXPECT_EQ(EncodeManualCode(p), "00876800071");
}

TEST(ManualCode, CustomFlowCarriesVendorAndProduct) {
  SetupPayload p = TestDevice();
  p.commissioning_flow = kFlowCustom;
  const std::string code = EncodeManualCode(p);
  ASSERT_EQ(code.size(), 21u);
  EXPECT_EQ(code.substr(10, 10), "6552132768");
  EXPECT_TRUE(VerhoeffValid(code));
  auto parsed = ParseSetupCode(code);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->passcode, 20202021u);
  EXPECT_EQ(parsed->discriminator, 0xF);
  EXPECT_EQ(parsed->vendor_id, 0xFFF1);
  EXPECT_EQ(parsed->product_id, 0x8000);
}

TEST(ManualCode, FormatsForPrinting) {
  EXPECT_EQ(FormatManualCode("34970112332"), "3497-011-2332");
  EXPECT_EQ(FormatManualCode("123456789012345678901"),
            "1234-567-8901-23456-78901");
  EXPECT_EQ(FormatManualCode("123"), "123");
}

TEST(QrPayload, KnownAnswers) {
  auto qr = EncodeQrPayload(TestDevice());
  ASSERT_TRUE(qr.ok());
  EXPECT_EQ(*qr, "MT:Y.K9042C00KA0648G00");

  SetupPayload p;
  p.vendor_id = 9050;
  p.product_id = 65279;
  p.rendezvous = kRendezvousBle;
  p.discriminator = 2976;
  p.passcode = 34567890;
  qr = EncodeQrPayload(p);
  ASSERT_TRUE(qr.ok());
  EXPECT_EQ(*qr, "MT:YNJV7VSC00CMVH7SR00");
}

TEST(QrPayload, RefusesWhatCannotBeEncoded) {
  SetupPayload p = TestDevice();
  p.passcode = 11111111;
  EXPECT_EQ(EncodeQrPayload(p).status().code(), Code::kInvalidArgument);
  p = TestDevice();
  p.discriminator = 4096;
  EXPECT_FALSE(EncodeQrPayload(p).ok());
  p = TestDevice();
  p.version = 1;
  EXPECT_FALSE(EncodeQrPayload(p).ok());
  p = TestDevice();
  p.commissioning_flow = 3;
  EXPECT_FALSE(EncodeQrPayload(p).ok());
}

TEST(Base38, KnownAnswerAndRoundTrip) {
  auto raw = HexDecode("88ffa7915040004751dd02");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(Base38Encode(*raw), "-MOA57ZU02IT2L2BJ00");
  auto back = Base38Decode("-MOA57ZU02IT2L2BJ00");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, *raw);
  for (size_t n = 0; n < 10; ++n) {
    Bytes data(n);
    for (size_t i = 0; i < n; ++i) data[i] = static_cast<uint8_t>(0xFF - i * 7);
    auto decoded = Base38Decode(Base38Encode(data));
    ASSERT_TRUE(decoded.ok()) << n;
    EXPECT_EQ(*decoded, data);
  }
}

TEST(Base38, RejectsMalformedText) {
  EXPECT_FALSE(Base38Decode("A").ok());      // 1 char: no byte count
  EXPECT_FALSE(Base38Decode("ABC").ok());    // 3 chars: no byte count
  EXPECT_FALSE(Base38Decode("ab").ok());     // lowercase
  EXPECT_FALSE(Base38Decode("..").ok());     // 37*38+37 > 255
  EXPECT_FALSE(Base38Decode(".....").ok());  // > 2^24
  EXPECT_TRUE(Base38Decode("").ok());
}

TEST(ParseSetupCode, ReadsEveryForm) {
  auto bare = ParseSetupCode("2020-2021");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->passcode, 20202021u);
  EXPECT_FALSE(bare->discriminator.has_value());

  auto manual = ParseSetupCode(" 3497-011-2332\n");
  ASSERT_TRUE(manual.ok()) << manual.status().ToString();
  EXPECT_EQ(manual->passcode, 20202021u);
  EXPECT_TRUE(manual->short_discriminator);
  EXPECT_EQ(manual->discriminator, 3840 >> 8);
  EXPECT_FALSE(manual->vendor_id.has_value());

  auto qr = ParseSetupCode("MT:W0GU2OTB00KA0648G00");
  ASSERT_TRUE(qr.ok()) << qr.status().ToString();
  EXPECT_EQ(qr->passcode, 20202021u);
  EXPECT_FALSE(qr->short_discriminator);
  EXPECT_EQ(qr->discriminator, 3840);
  EXPECT_EQ(qr->vendor_id, 9050);
  EXPECT_EQ(qr->product_id, 20043);
}

TEST(ParseSetupCode, RoundTripsGeneratedPayloads) {
  for (uint32_t passcode : {1u, 20202021u, 34567890u, 99999998u, 4194304u}) {
    for (uint16_t disc : {0, 1, 255, 256, 2976, 4095}) {
      SetupPayload p;
      p.vendor_id = 0xFFF1;
      p.product_id = 0x8000;
      p.discriminator = disc;
      p.passcode = passcode;
      auto manual = ParseSetupCode(FormatManualCode(EncodeManualCode(p)));
      ASSERT_TRUE(manual.ok()) << manual.status().ToString();
      EXPECT_EQ(manual->passcode, passcode);
      EXPECT_EQ(manual->discriminator, disc >> 8);

      auto qr_text = EncodeQrPayload(p);
      ASSERT_TRUE(qr_text.ok());
      auto qr = ParseSetupCode(*qr_text);
      ASSERT_TRUE(qr.ok()) << qr.status().ToString();
      EXPECT_EQ(qr->passcode, passcode);
      EXPECT_EQ(qr->discriminator, disc);
      EXPECT_EQ(qr->vendor_id, 0xFFF1);
      EXPECT_EQ(qr->product_id, 0x8000);
    }
  }
}

TEST(ParseSetupCode, WrongCheckDigitIsNamed) {
  auto r = ParseSetupCode("34970112333");
  EXPECT_EQ(r.status(),
            Status(Code::kInvalidArgument, "check digit does not match"));
  // A swapped pair of digits is caught the same way.
  EXPECT_EQ(ParseSetupCode("34907112332").status().message(),
            "check digit does not match");
}

TEST(ParseSetupCode, Rejections) {
  const char* bad[] = {
      "",
      "   ",
      "1111-1111",                    // forbidden passcode
      "12345678",                     // forbidden passcode
      "00000000",                     // zero
      "1234567",                      // 7 digits
      "123456789",                    // 9 digits
      "2020a021",                     // letter
      "+20202021",                    // sign
      "MT:Y.K9042C00KA0648G0",        // truncated
      "MT:Y.K9042C00KA0648G000",      // trailing junk
      "MT:y.k9042c00ka0648g00",       // lowercase
      "mt:Y.K9042C00KA0648G00",       // lowercase prefix
      "MT:YNJV7VSC00CMVH7E4810AK00",  // optional TLV data
      "MT:",
      "MT:Y.K9042C00KA0648G00*MT:Y.K9042C00KA0648G00",
  };
  for (const char* text : bad) {
    auto r = ParseSetupCode(text);
    EXPECT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << text;
  }
  EXPECT_FALSE(ParseSetupCode(std::string(65, '1')).ok());
  // A valid code padded past the length bound is refused before parsing.
  EXPECT_FALSE(ParseSetupCode(std::string(60, ' ') + "20202021").ok());
}

TEST(ParseSetupCode, RejectsBadQrFields) {
  // Version 1: set bit 0 of the first byte of the packed test device.
  SetupPayload p = TestDevice();
  auto qr = EncodeQrPayload(p);
  ASSERT_TRUE(qr.ok());
  auto raw = Base38Decode(qr->substr(3));
  ASSERT_TRUE(raw.ok());

  Bytes v1 = *raw;
  v1[0] |= 0x01;
  EXPECT_EQ(ParseSetupCode("MT:" + Base38Encode(v1)).status().message(),
            "unsupported QR payload version");

  Bytes padded = *raw;
  padded[10] |= 0x80;  // the top padding bit
  EXPECT_EQ(ParseSetupCode("MT:" + Base38Encode(padded)).status().message(),
            "QR payload padding is not zero");

  // Passcode bits all zero: bits 57..83.
  Bytes zero = *raw;
  for (int bit = 57; bit < 84; ++bit) {
    zero[bit / 8] &= static_cast<uint8_t>(~(1u << (bit % 8)));
  }
  EXPECT_EQ(ParseSetupCode("MT:" + Base38Encode(zero)).status().message(),
            "not a valid setup code");
}

TEST(ParseSetupCode, RejectsManualCodeWithBadFields) {
  // First digit 8 is a reserved version; make its check digit valid so the
  // field check is what refuses it.
  std::string digits = "8497011233";
  EXPECT_EQ(
      ParseSetupCode(digits + VerhoeffCheckDigit(digits)).status().message(),
      "unsupported manual code version");
  // VID/PID flag set in an 11-digit code.
  digits = "4497011233";
  EXPECT_FALSE(ParseSetupCode(digits + VerhoeffCheckDigit(digits)).ok());
  // Middle chunk above 16 bits.
  digits = "0700001233";
  EXPECT_EQ(
      ParseSetupCode(digits + VerhoeffCheckDigit(digits)).status().message(),
      "manual code is out of range");
}

TEST(QrRender, SvgIsAStandaloneImageWithQuietZone) {
  auto svg = RenderQrSvg("MT:Y.K9042C00KA0648G00");
  ASSERT_TRUE(svg.ok());
  EXPECT_EQ(svg->rfind("<?xml", 0), 0u);
  EXPECT_NE(svg->find("xmlns=\"http://www.w3.org/2000/svg\""),
            std::string::npos);
  // 22 alphanumeric characters at level M need version 2 (25x25; version 1
  // holds 20), plus 4 modules of quiet zone on each side.
  EXPECT_NE(svg->find("viewBox=\"0 0 33 33\""), std::string::npos);
  // The top-left finder pattern starts at the quiet zone's edge.
  EXPECT_NE(svg->find("M4 4h7v1h-7z"), std::string::npos);
  EXPECT_NE(svg->find("</svg>"), std::string::npos);
}

TEST(QrRender, TextUsesHalfBlocks) {
  auto text = RenderQrText("MT:Y.K9042C00KA0648G00");
  ASSERT_TRUE(text.ok());
  // 33 rows -> 17 lines of 33 cells.
  size_t lines = 0;
  for (char c : *text) lines += c == '\n';
  EXPECT_EQ(lines, 17u);
  // The first two rows are quiet zone: all full blocks.
  std::string first_line = text->substr(0, text->find('\n'));
  std::string full;
  for (int i = 0; i < 33; ++i) full += "\u2588";
  EXPECT_EQ(first_line, full);
  EXPECT_NE(text->find("\u2580"), std::string::npos);
}

TEST(QrRender, RefusesEmptyOrHugePayload) {
  EXPECT_FALSE(RenderQrSvg("").ok());
  EXPECT_FALSE(RenderQrText(std::string(300, 'A')).ok());
  EXPECT_FALSE(RenderQrSvg(std::string("a\0b", 3)).ok());
}

}  // namespace
}  // namespace warden::pairing
