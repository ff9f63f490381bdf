// The real-network verbs (issue #10), one autonic host per process on a TAP or QEMU socket:
//   autonic tls|tcp serve --port P ...        (like openssl s_server)
//   autonic tls|tcp connect HOST:PORT ...     (like openssl s_client)
//   autonic nvme connect --traddr A ...       (like nvme connect, then fio)
//   autonic nvme target --port 4420 ...       (like nvmet-tcp)
//   autonic pattern --seed S --bytes N        (the bytes `--send N --seed S` sends, for peers' files)
#pragma once
#include <CLI/CLI.hpp>

#include <memory>
#include <optional>

namespace autonic::cli {

struct NetCommands;
// Registers the verbs on `app`; keep the returned object alive until after parsing.
std::shared_ptr<NetCommands> add_net_commands(CLI::App& app);
// After parsing: runs the verb the command line chose. nullopt if it chose none of these.
std::optional<int> run_net_command(const NetCommands& n);

}  // namespace autonic::cli
