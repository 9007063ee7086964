// What every tracer does once its BPF object is loaded: attach links, drain
// the ring buffer into batches, read the counters and the stack table, and
// tear it all down. The BPF side is in bpf/common.bpf.h.
#pragma once

#include <bpf/libbpf.h>

#include <cstdint>
#include <vector>

namespace leakhound {

class BpfSession {
 public:
  BpfSession() = default;
  BpfSession(const BpfSession&) = delete;
  BpfSession& operator=(const BpfSession&) = delete;
  ~BpfSession() { close(); }

  // Takes the maps of a loaded object; returns a negative errno on failure.
  int open(bpf_map* events, bpf_map* counters, bpf_map* stacks);
  void add_link(bpf_link* link) { links_.push_back({link, -1}); }
  // A link made outside libbpf (see uprobe-multi.h): only its fd.
  void add_link_fd(int fd) { links_.push_back({nullptr, fd}); }
  void detach();
  void close();
  bool is_open() const { return ring_ != nullptr; }

  // Copies the records waiting in the ring buffer into `out` (cleared
  // first), stopping after the record that reaches max_bytes. The records
  // are only valid inside libbpf's callback, so they are copied there.
  int drain(std::vector<uint8_t>& out, size_t max_bytes);
  std::vector<uint64_t> counters() const;
  // One stack's frames, or an empty vector when the id is unknown.
  std::vector<uint64_t> stack(uint64_t id) const;

 private:
  static int on_record(void* self, void* data, size_t size);

  ring_buffer* ring_ = nullptr;
  int counters_fd_ = -1;
  int stacks_fd_ = -1;
  struct Link {
    bpf_link* link;
    int fd;
  };
  std::vector<Link> links_;
  std::vector<uint8_t>* sink_ = nullptr;
  size_t sink_limit_ = 0;
};

}  // namespace leakhound
