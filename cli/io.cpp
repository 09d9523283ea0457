#include "cli/io.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace ppsim::cli {

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw std::invalid_argument("cannot read '" + path + "': " +
                                (std::filesystem::exists(path, ec) ? "not a regular file" : "no such file"));
  const auto size = std::filesystem::file_size(path, ec);
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

void write_output(const std::string& path, const std::string& text, std::ostream& out) {
  if (path.empty() || path == "-") {
    out << text;
    return;
  }
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (std::filesystem::is_directory(status)) throw std::invalid_argument("cannot write '" + path + "': it is a folder");
  if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
    // A device or a FIFO (/dev/null, a pipe): written in place, never replaced by a file.
    std::ofstream f(path, std::ios::binary);
    if (!(f << text) || !(f.flush())) throw std::invalid_argument("cannot write '" + path + "': write failed");
    return;
  }
  // A file of our own next to the target (O_EXCL through mkstemp: never a name another run or
  // a planted link holds), written whole, then renamed over the target: readers see the old
  // file or the new one, never a mix of two runs.
  std::string tmp = path + ".tmp-ppsim-XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0) throw std::invalid_argument("cannot write '" + path + "': the folder is missing or not writable");
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      close(fd);
      std::remove(tmp.c_str());
      throw std::invalid_argument("cannot write '" + path + "': write failed (disk full?)");
    }
    done += static_cast<std::size_t>(n);
  }
  fchmod(fd, 0644);  // mkstemp's 0600 would hide the output from other users
  if (close(fd) != 0) {
    std::remove(tmp.c_str());
    throw std::invalid_argument("cannot write '" + path + "': write failed (disk full?)");
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw std::invalid_argument("cannot write '" + path + "': " + ec.message());
  }
}

}  // namespace ppsim::cli
