// This process's memory, from /proc/self/status (Linux): peak resident set (VmHWM) and now (VmRSS).
#pragma once
#include <cstdint>
#include <fstream>
#include <string>

namespace autonic {

// In bytes; 0 if /proc is not there.
inline uint64_t proc_status_bytes(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(f, line))
    if (line.compare(0, key.size(), key) == 0) return std::stoull(line.substr(key.size())) * 1024;  // "  1234 kB"
  return 0;
}
inline uint64_t peak_rss_bytes() { return proc_status_bytes("VmHWM"); }
inline uint64_t rss_bytes() { return proc_status_bytes("VmRSS"); }

}  // namespace autonic
