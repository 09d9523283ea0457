#include "cli/io.hpp"

#include <cstdio>
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
  const std::string tmp = path + ".tmp-ppsim";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::invalid_argument("cannot write '" + path + "': the folder is missing or not writable");
    f << text;
    f.close();
    if (!f) {
      std::remove(tmp.c_str());
      throw std::invalid_argument("cannot write '" + path + "': write failed (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw std::invalid_argument("cannot write '" + path + "': " + ec.message());
  }
}

}  // namespace ppsim::cli
