#pragma once
// Reading the service's reference data files (data/pincodes.csv, data/professions.csv): one
// header line, then one row a line. A UTF-8 BOM is skipped, lines are trimmed, blank lines are
// ignored; a wrong or missing header and a read error are reported through `fail` / thrown.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace leadgate {

// Calls row(line_no, trimmed line) for every non-blank line after the header. fail(line_no,
// message) must throw; std::runtime_error when the file cannot be opened or read.
void read_line_file(const std::string& path, std::string_view what, std::string_view header,
                    const std::function<void(std::size_t, std::string_view)>& row,
                    const std::function<void(std::size_t, const std::string&)>& fail);

}  // namespace leadgate
