#include "domain/line_file.h"

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include "domain/text.h"

namespace leadgate {

void read_line_file(const std::string& path, std::string_view what, std::string_view header,
                    const std::function<void(std::size_t, std::string_view)>& row,
                    const std::function<void(std::size_t, const std::string&)>& fail) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open " + std::string(what));
  std::string line;
  std::size_t line_no = 0;
  bool saw_header = false;
  while (std::getline(in, line)) {
    ++line_no;
    std::string_view view = line;
    if (line_no == 1 && view.substr(0, 3) == "\xEF\xBB\xBF") view.remove_prefix(3);  // UTF-8 BOM
    view = trim(view);
    if (view.empty()) continue;
    if (!saw_header) {
      if (view != header) fail(line_no, "expected header \"" + std::string(header) + "\"");
      saw_header = true;
      continue;
    }
    row(line_no, view);
  }
  if (in.bad()) throw std::runtime_error(path + ": read error");
  if (!saw_header) {
    fail(std::max<std::size_t>(line_no, 1), "no header, expected \"" + std::string(header) + "\"");
  }
}

}  // namespace leadgate
