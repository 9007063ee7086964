// libdwfl asks the debuginfod servers in DEBUGINFOD_URLS itself, through
// libdebuginfod; this keeps those lookups from holding up a report. A server
// that accepts and then says nothing stalls each lookup for libdebuginfod's
// DEBUGINFOD_TIMEOUT (90 s by default), once per file per process traced.
#pragma once

#include <elfutils/libdwfl.h>

namespace leakhound {

// Has the session's debuginfod client (none without DEBUGINFOD_URLS) report
// its progress here, so that a stalled lookup can be cut.
void watch_debuginfod(Dwfl* dwfl);

// dwfl_standard_find_debuginfo with its debuginfod lookup bounded: cut after
// DEBUGINFOD_TIMEOUT seconds (10 when unset) without a byte, and once one
// lookup was cut, later ones are not waited for. A build-id nothing was
// found for is not looked up again in this process.
int find_debuginfo_bounded(Dwfl_Module* mod, void** userdata, const char* module_name,
                           Dwarf_Addr base, const char* file_name, const char* debuglink,
                           GElf_Word debuglink_crc, char** debuginfo_file_name);

}  // namespace leakhound
