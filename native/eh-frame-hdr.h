// Where functions start, from .eh_frame_hdr's binary-search table: what a
// stripped object still says of its code. Bytes in, addresses out; every
// read is bounded by the bytes given. No N-API, no libelf: the fuzzer
// drives it as is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace leakhound {

// The table's initial locations, ascending and distinct, for the
// .eh_frame_hdr held in `bytes` (`size` of them) and loaded at `vaddr`.
// Empty when there is no table or it is malformed; never throws.
std::vector<uint64_t> eh_frame_hdr_starts(const uint8_t* bytes, size_t size, uint64_t vaddr);

}  // namespace leakhound
