#include "cli/io.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "sim/one_line.hpp"

namespace ppsim::cli {

namespace fs = std::filesystem;

std::atomic<bool> outputs_written{false};

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw std::invalid_argument("cannot read '" + path + "': " + (fs::exists(path, ec) ? "not a regular file" : "no such file"));
  const auto size = fs::file_size(path, ec);
  if (ec) throw std::invalid_argument("cannot read '" + path + "': " + ec.message());
  if (size > kMaxInputBytes)
    throw std::invalid_argument("'" + path + "' is " + std::to_string(size) + " bytes: inputs are limited to " +
                                std::to_string(kMaxInputBytes) + " bytes");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument("cannot read '" + path + "': permission denied or unreadable");
  std::string text(size, '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  if (static_cast<std::size_t>(in.gcount()) != size) throw std::invalid_argument("cannot read '" + path + "': short read");
  return text;
}

namespace {

bool to_stdout(const std::string& path) { return path.empty() || path == "-"; }

// Two names of one file: the same inode, or (not yet existing) the same absolute path.
bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::absolute(a, ec).lexically_normal() == fs::absolute(b, ec).lexically_normal();
}

// The files the other flags name: a value, or each item of a comma list, that is a regular file.
std::vector<std::pair<std::string, std::string>> input_files(const Args& args, const std::vector<std::string>& outputs) {
  std::vector<std::pair<std::string, std::string>> inputs;
  for (const auto& [flag, value] : args.values()) {
    bool is_output = false;
    for (const auto& o : outputs) is_output = is_output || o == flag;
    if (is_output || value.empty()) continue;
    std::size_t from = 0;
    while (from <= value.size()) {
      const std::size_t comma = value.find(',', from);
      const std::string item = value.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
      std::error_code ec;
      if (!item.empty() && fs::is_regular_file(item, ec)) inputs.emplace_back(flag, item);
      if (comma == std::string::npos) break;
      from = comma + 1;
    }
    std::error_code ec;
    if (value.find(',') != std::string::npos && fs::is_regular_file(value, ec)) inputs.emplace_back(flag, value);
  }
  return inputs;
}

// The temporaries being written, for the signal handler: fixed slots, no allocation there.
constexpr int kSlots = 32;
constexpr std::size_t kPathMax = 4096;
std::array<std::array<char, kPathMax>, kSlots> g_temp_paths{};
std::array<std::atomic<int>, kSlots> g_temp_state{};  // 0 free, 1 being named, 2 named (the handler's)

int register_temp(const std::string& path) {
  if (path.size() >= kPathMax) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int expected = 0;
    if (g_temp_state[i].compare_exchange_strong(expected, 1)) {
      std::memcpy(g_temp_paths[i].data(), path.c_str(), path.size() + 1);
      g_temp_state[i].store(2);
      return i;
    }
  }
  return -1;
}

void forget_temp(int slot) {
  if (slot >= 0) g_temp_state[slot].store(0);
}

struct Temp {
  std::string target, path;
  int slot = -1;
  bool in_place = false;  // a device or a FIFO: written directly
};

void discard(std::vector<Temp>& temps) {
  for (Temp& t : temps)
    if (!t.in_place && !t.path.empty()) {
      std::remove(t.path.c_str());
      forget_temp(t.slot);
    }
}

// Writes all of `text` to fd; false on a short write.
bool write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

void check_outputs(const Args& args, const std::vector<std::string>& output_flags) {
  const auto inputs = input_files(args, output_flags);
  std::vector<std::pair<std::string, std::string>> seen;
  for (const std::string& flag : output_flags) {
    const auto value = args.get(flag);
    if (!value || to_stdout(*value)) continue;
    const std::string& path = *value;
    const std::string named = "--" + flag + " '" + sim::one_line(path) + "'";
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (fs::is_directory(status)) throw std::invalid_argument(named + ": it is a folder; allowed: a file path");
    const fs::path parent = fs::path(path).has_parent_path() ? fs::path(path).parent_path() : fs::path(".");
    if (!fs::is_directory(parent, ec))
      throw std::invalid_argument(named + ": its folder '" + sim::one_line(parent.string()) + "' does not exist");
    if (!fs::exists(status) || fs::is_regular_file(status)) {
      if (access(parent.c_str(), W_OK | X_OK) != 0)
        throw std::invalid_argument(named + ": its folder '" + sim::one_line(parent.string()) + "' is not writable");
    } else if (access(path.c_str(), W_OK) != 0) {
      throw std::invalid_argument(named + ": not writable");
    }
    for (const auto& [in_flag, in_path] : inputs)
      if (same_file(path, in_path))
        throw std::invalid_argument(named + " is also an input (--" + in_flag + "): refusing to overwrite it; allowed: another path");
    for (const auto& [out_flag, out_path] : seen)
      if (same_file(path, out_path))
        throw std::invalid_argument(named + " is also --" + out_flag + "'s output; allowed: a path of its own");
    seen.emplace_back(flag, path);
  }
}

namespace {

// SIGINT and SIGTERM held off while a temporary is made and named, and while the renames run:
// the handler then never misses a temporary, and the outputs land as a unit.
class SignalsHeld {
 public:
  SignalsHeld() {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, &old_);
  }
  ~SignalsHeld() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalsHeld(const SignalsHeld&) = delete;
  SignalsHeld& operator=(const SignalsHeld&) = delete;

 private:
  sigset_t old_;
};

// The temporaries of one write_outputs: removed unless committed, whatever is thrown.
struct Temps {
  std::vector<Temp> list;
  ~Temps() { discard(list); }
};

}  // namespace

void write_outputs(const std::vector<std::pair<std::string, std::string>>& files, std::ostream& out) {
  Temps temps;
  for (const auto& [path, text] : files) {
    if (to_stdout(path)) continue;
    Temp t;
    t.target = path;
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (fs::is_directory(status)) throw std::invalid_argument("cannot write '" + path + "': it is a folder");
    if (fs::exists(status) && !fs::is_regular_file(status)) {
      t.in_place = true;  // /dev/null, a pipe: written in place, never replaced by a file
      temps.list.push_back(t);
      continue;
    }
    // A file of our own next to the target (O_EXCL through mkstemp: never a name another run
    // or a planted link holds), written whole; readers see the old file or the new one.
    t.path = path + ".tmp-ppsim-XXXXXX";
    int fd = -1;
    {
      const SignalsHeld held;
      fd = mkstemp(t.path.data());
      if (fd >= 0) {
        t.slot = register_temp(t.path);
        temps.list.push_back(t);
      }
    }
    if (fd < 0) throw std::invalid_argument("cannot write '" + path + "': the folder is missing or not writable");
    if (t.slot < 0) {
      close(fd);
      throw std::invalid_argument("cannot write '" + path + "': more than 32 outputs at once, or a path too long");
    }
    const bool ok = write_all(fd, text);
    fchmod(fd, 0644);  // mkstemp's 0600 would hide the output from other users
    if (close(fd) != 0 || !ok) throw std::invalid_argument("cannot write '" + path + "': write failed (disk full?)");
  }
  // Every file is written: devices in place, then the renames, as one unit for the signals. A
  // rename within one folder fails only if the folder changes under us; then the outputs
  // renamed before it stay.
  std::size_t i = 0;
  for (const auto& [path, text] : files) {
    if (to_stdout(path)) continue;
    Temp& t = temps.list[i++];
    if (!t.in_place) continue;
    std::ofstream f(path, std::ios::binary);
    if (!(f << text) || !(f.flush())) throw std::invalid_argument("cannot write '" + path + "': write failed");
  }
  {
    const SignalsHeld held;
    for (Temp& t : temps.list) {
      if (t.in_place) continue;
      std::error_code ec;
      fs::rename(t.path, t.target, ec);
      if (ec) throw std::invalid_argument("cannot write '" + t.target + "': " + ec.message());
      forget_temp(t.slot);
      t.path.clear();
    }
    outputs_written.store(true);
  }
  for (const auto& [path, text] : files)
    if (to_stdout(path)) out << text;
}

void write_output(const std::string& path, const std::string& text, std::ostream& out) { write_outputs({{path, text}}, out); }

void remove_temporaries() noexcept {
  for (int i = 0; i < kSlots; ++i)
    if (g_temp_state[i].load() == 2) unlink(g_temp_paths[i].data());
}

}  // namespace ppsim::cli
