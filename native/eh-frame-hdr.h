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

// One pointer encoded as `encoding` (DW_EH_PE_*) at bytes[at], of bytes
// loaded at `vaddr` (a pc-relative one counts from its own address, a
// data-relative one from `vaddr`), and in *length its size. False where it
// does not lie within the bytes or its encoding is not handled (LEB128,
// indirect, other bases); never throws.
bool decode_eh_pointer(const uint8_t* bytes, size_t size, size_t at, uint8_t encoding, uint64_t vaddr,
                       uint64_t* value, size_t* length);

}  // namespace leakhound
