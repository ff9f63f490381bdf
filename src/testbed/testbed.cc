#include "testbed/testbed.h"

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

#include "testbed/scenario_run.h"

namespace autonic::testbed {

Report run_scenario(const ScenarioConfig& cfg) {
  validate_config(cfg);
  // Keep freed memory in the process: glibc would otherwise hand the heap top back to the kernel
  // and fault it in again (zeroed) moments later, and those kernel cycles would be charged to
  // whichever host / NIC domain happens to be running (measured: up to half of a DDP run's
  // host cycles at 64K depth 1).
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  ScenarioRun run(cfg);          // build: hosts, NICs, drivers, wire, L5P sessions, workloads
  const std::string outcome = run.run();  // the event loop
  return run.report(outcome);    // result and counters (then teardown, in ~ScenarioRun)
}

nlohmann::json json_in_child(const std::function<nlohmann::json()>& fn) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    try {
      out = fn().dump();
    } catch (const std::exception& e) {
      out = nlohmann::json{{"error", e.what()}}.dump();
    }
    size_t off = 0;
    while (off < out.size()) {
      const ssize_t n = write(fds[1], out.data() + off, out.size() - off);
      if (n <= 0) break;
      off += size_t(n);
    }
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  std::string in;
  char buf[65536];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    in.append(buf, size_t(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || in.empty())
    throw std::runtime_error("scenario child crashed (status " + std::to_string(status) + ")");
  auto j = nlohmann::json::parse(in);
  if (j.contains("error")) throw std::runtime_error(j["error"].get<std::string>());
  return j;
}

Report run_isolated(const ScenarioConfig& cfg) {
  return Report::from_json(json_in_child([&] { return run_scenario(cfg).to_json(); }));
}

}  // namespace autonic::testbed
