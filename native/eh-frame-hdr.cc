#include "eh-frame-hdr.h"

#include <algorithm>

namespace leakhound {
namespace {

// The header: version, then the encodings of the .eh_frame pointer, of the
// entry count and of the table's entries (DW_EH_PE_*).
constexpr size_t kHeaderSize = 4;
constexpr uint8_t kVersion = 1;
constexpr uint8_t kOmit = 0xff;
constexpr uint8_t kApplication = 0x70;
constexpr uint8_t kAbsolute = 0x00;
constexpr uint8_t kPcRelative = 0x10;
constexpr uint8_t kDataRelative = 0x30;  // from the start of .eh_frame_hdr
constexpr uint8_t kIndirect = 0x80;

struct Format {
  size_t size;  // 0: not a fixed-size value
  bool is_signed;
};

// LEB128 has no fixed size, so a table cannot hold it: not handled.
Format format_of(uint8_t encoding) {
  switch (encoding & 0x0f) {
    case 0x00: return {8, false};  // absptr, on a 64-bit object
    case 0x02: return {2, false};
    case 0x03: return {4, false};
    case 0x04: return {8, false};
    case 0x0a: return {2, true};
    case 0x0b: return {4, true};
    case 0x0c: return {8, true};
  }
  return {0, false};
}

// The value encoded as `encoding` at bytes[at], as an address; false where
// it does not lie within the bytes or its encoding is not handled.
bool decode(const uint8_t* bytes, size_t size, size_t at, uint8_t encoding, uint64_t vaddr,
            uint64_t* value) {
  Format format = format_of(encoding);
  if (format.size == 0 || (encoding & kIndirect) || at > size || size - at < format.size) return false;
  uint64_t raw = 0;
  for (size_t i = 0; i < format.size; ++i) raw |= static_cast<uint64_t>(bytes[at + i]) << (8 * i);
  if (format.is_signed && format.size < 8) {
    uint64_t sign = 1ULL << (8 * format.size - 1);
    raw = (raw ^ sign) - sign;
  }
  // Unsigned arithmetic: a hostile offset wraps, it never overflows.
  switch (encoding & kApplication) {
    case kAbsolute: *value = raw; return true;
    case kPcRelative: *value = vaddr + at + raw; return true;
    case kDataRelative: *value = vaddr + raw; return true;
  }
  return false;
}

}  // namespace

bool decode_eh_pointer(const uint8_t* bytes, size_t size, size_t at, uint8_t encoding, uint64_t vaddr,
                       uint64_t* value, size_t* length) {
  *length = format_of(encoding).size;
  return decode(bytes, size, at, encoding, vaddr, value);
}

std::vector<uint64_t> eh_frame_hdr_starts(const uint8_t* bytes, size_t size, uint64_t vaddr) {
  std::vector<uint64_t> starts;
  if (!bytes || size < kHeaderSize || bytes[0] != kVersion) return starts;
  uint8_t frame_encoding = bytes[1], count_encoding = bytes[2], table_encoding = bytes[3];
  // A linker that could not sort the table omits it.
  if (count_encoding == kOmit || table_encoding == kOmit) return starts;
  // The pointer to .eh_frame: only its length matters here.
  uint64_t ignored = 0, count = 0;
  size_t at = kHeaderSize;
  if (!decode(bytes, size, at, frame_encoding, vaddr, &ignored)) return starts;
  at += format_of(frame_encoding).size;
  if ((count_encoding & kApplication) != kAbsolute || !decode(bytes, size, at, count_encoding, vaddr, &count))
    return starts;
  at += format_of(count_encoding).size;
  // Entries are pairs: a function's initial location, then its FDE's.
  size_t field = format_of(table_encoding).size;
  if (field == 0 || count > (size - at) / (2 * field)) return starts;
  starts.reserve(count);
  for (uint64_t i = 0; i < count; ++i, at += 2 * field) {
    uint64_t start = 0;
    if (!decode(bytes, size, at, table_encoding, vaddr, &start)) return {};
    starts.push_back(start);
  }
  // Sorted, when the linker wrote it; a hostile file need not be.
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
  return starts;
}

}  // namespace leakhound
