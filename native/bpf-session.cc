#include "bpf-session.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cerrno>

#include "../bpf/leakhound.h"

namespace leakhound {

int BpfSession::open(bpf_map* events, bpf_map* counters, bpf_map* stacks) {
  ring_ = ring_buffer__new(bpf_map__fd(events), &BpfSession::on_record, this, nullptr);
  if (!ring_) return -errno;
  counters_fd_ = bpf_map__fd(counters);
  stacks_fd_ = bpf_map__fd(stacks);
  return 0;
}

void BpfSession::detach() {
  // Entry probes were attached last: taking them off first means no call
  // starts whose return would go unseen.
  for (auto it = links_.rbegin(); it != links_.rend(); ++it) {
    if (it->link) bpf_link__destroy(it->link);
    else ::close(it->fd);
  }
  links_.clear();
}

void BpfSession::close() {
  detach();
  if (ring_) ring_buffer__free(ring_);
  ring_ = nullptr;
}

// libbpf has consumed a record by the time it hands it over, whatever the
// callback returns: every record is kept, and a full batch stops the
// consumer with this sentinel after its last record is safe.
constexpr int kBatchFull = -ENOSPC;

int BpfSession::on_record(void* self, void* data, size_t size) {
  auto* session = static_cast<BpfSession*>(self);
  auto* bytes = static_cast<uint8_t*>(data);
  session->sink_->insert(session->sink_->end(), bytes, bytes + size);
  return session->sink_->size() >= session->sink_limit_ ? kBatchFull : 0;
}

int BpfSession::drain(std::vector<uint8_t>& out, size_t max_bytes) {
  out.clear();
  sink_ = &out;
  sink_limit_ = max_bytes;
  int n = ring_buffer__consume(ring_);
  sink_ = nullptr;
  return n < 0 && n != kBatchFull ? n : 0;
}

std::vector<uint64_t> BpfSession::counters() const {
  int cpus = libbpf_num_possible_cpus();
  std::vector<uint64_t> totals(LH_CNT__MAX, 0);
  std::vector<uint64_t> per_cpu(cpus > 0 ? cpus : 1);
  for (uint32_t key = 0; key < LH_CNT__MAX; key++) {
    if (bpf_map_lookup_elem(counters_fd_, &key, per_cpu.data())) continue;
    for (uint64_t value : per_cpu) totals[key] += value;
  }
  return totals;
}

std::vector<uint64_t> BpfSession::stack(uint64_t id) const {
  lh_stack frames;
  if (bpf_map_lookup_elem(stacks_fd_, &id, &frames)) return {};
  std::vector<uint64_t> ips;
  for (uint64_t ip : frames.ips) {
    if (!ip) break;
    ips.push_back(ip);
  }
  return ips;
}

}  // namespace leakhound
