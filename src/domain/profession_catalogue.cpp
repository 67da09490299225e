#include "domain/profession_catalogue.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/line_file.h"
#include "domain/text.h"

namespace leadgate {
namespace {

constexpr std::string_view kHeader = "id,name,employment_type,aliases";
constexpr std::size_t kColumns = 4;

constexpr std::array<std::pair<EmploymentType, std::string_view>, 3> kTypeNames = {{
    {EmploymentType::salaried, "salaried"},
    {EmploymentType::self_employed_professional, "self_employed_professional"},
    {EmploymentType::self_employed_business, "self_employed_business"},
}};

// The form names are compared in: ASCII letters lower-cased, surrounding whitespace dropped and
// each inner run of whitespace reduced to one space. Other bytes (punctuation, UTF-8) stay as
// they are, so "Chartered Accountant (CA)" and "chartered  accountant (ca)" share one key.
std::string name_key(std::string_view name) {
  std::string key;
  key.reserve(name.size());
  bool pending_space = false;
  for (char c : trim(name)) {
    if (is_space(c)) {
      pending_space = true;
      continue;
    }
    if (pending_space) key.push_back(' ');
    pending_space = false;
    key.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return key;
}

// A positive decimal id without sign or leading zeros that fits an int, or -1.
int parse_id(std::string_view text) {
  if (text.empty() || text.size() > 10 || text.front() == '0') return -1;
  long long value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value > std::numeric_limits<int>::max() ? -1 : static_cast<int>(value);
}

// Splits one CSV line into fields. A field is plain (no '"'; surrounding whitespace trimmed) or
// double-quoted, with "" for a literal quote and only whitespace allowed outside the quotes.
// Records span one line: a quoted field cannot hold a line break. On error, fills `error`.
std::vector<std::string> split_csv_line(std::string_view line, std::string& error) {
  std::vector<std::string> fields;
  std::size_t i = 0;
  while (true) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::string field;
    if (i < line.size() && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        field.push_back(line[i++]);
      }
      if (!closed) {
        error = "unterminated quoted field " + std::to_string(fields.size() + 1);
        return {};
      }
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i < line.size() && line[i] != ',') {
        error =
            "unexpected text after the closing quote of field " + std::to_string(fields.size() + 1);
        return {};
      }
    } else {
      const std::size_t end = std::min(line.find(',', i), line.size());
      const std::string_view raw = line.substr(i, end - i);
      if (raw.find('"') != std::string_view::npos) {
        error = "quote inside unquoted field " + std::to_string(fields.size() + 1) +
                " (quote the whole field and double the quote)";
        return {};
      }
      field = std::string(trim(raw));
      i = end;
    }
    fields.push_back(std::move(field));
    if (i >= line.size()) return fields;
    ++i;  // the comma
  }
}

// Validates rows and sorts them by id. Errors read "SOURCE:LINE: what" (SOURCE is the file path,
// or "profession rows" for in-memory rows, where LINE is the 1-based row number).
class Builder {
 public:
  explicit Builder(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(std::size_t line, std::string_view what) const {
    throw std::runtime_error(source_ + ":" + std::to_string(line) + ": " + std::string(what));
  }

  void add(std::size_t line, Profession p) {
    if (p.id <= 0) fail(line, "profession id must be a positive integer");
    p.name = std::string(trim(p.name));
    if (p.name.empty()) fail(line, "missing name for profession " + std::to_string(p.id));
    for (std::string& alias : p.aliases) {
      alias = std::string(trim(alias));
      if (alias.empty()) fail(line, "empty alias for profession " + std::to_string(p.id));
    }
    rows_.push_back(Row{std::move(p), line});
  }

  std::vector<Profession> finish() {
    std::stable_sort(rows_.begin(), rows_.end(),
                     [](const Row& a, const Row& b) { return a.profession.id < b.profession.id; });
    std::vector<Profession> out;
    out.reserve(rows_.size());
    for (std::size_t i = 0; i < rows_.size(); ++i) {
      if (i > 0 && rows_[i].profession.id == rows_[i - 1].profession.id) {
        fail(std::max(rows_[i].line, rows_[i - 1].line),
             "duplicate profession id " + std::to_string(rows_[i].profession.id) +
                 " (also on line " + std::to_string(std::min(rows_[i].line, rows_[i - 1].line)) +
                 ")");
      }
      out.push_back(std::move(rows_[i].profession));
    }
    return out;
  }

 private:
  struct Row {
    Profession profession;
    std::size_t line;
  };
  std::string source_;
  std::vector<Row> rows_;
};

std::vector<std::string> split_aliases(std::string_view field) {
  std::vector<std::string> aliases;
  if (trim(field).empty()) return aliases;
  std::size_t start = 0;
  while (true) {
    const std::size_t bar = field.find('|', start);
    aliases.emplace_back(
        field.substr(start, bar == std::string_view::npos ? field.npos : bar - start));
    if (bar == std::string_view::npos) return aliases;
    start = bar + 1;
  }
}

}  // namespace

std::string_view employment_type_name(EmploymentType t) {
  for (const auto& [type, name] : kTypeNames) {
    if (type == t) return name;
  }
  return "unknown";
}

ProfessionCatalogue ProfessionCatalogue::load(const std::string& path) {
  Builder builder(path);
  const auto fail = [&](std::size_t line_no, const std::string& what) {
    builder.fail(line_no, what);
  };
  read_line_file(
      path, "profession catalogue", kHeader,
      [&](std::size_t line_no, std::string_view view) {
        std::string error;
        const std::vector<std::string> fields = split_csv_line(view, error);
        if (!error.empty()) builder.fail(line_no, error);
        if (fields.size() != kColumns) {
          builder.fail(line_no, "expected " + std::to_string(kColumns) + " fields (" +
                                    std::string(kHeader) + "), found " +
                                    std::to_string(fields.size()));
        }

        Profession p;
        p.id = parse_id(fields[0]);
        if (p.id < 0) {
          builder.fail(line_no,
                       "invalid profession id \"" + fields[0] + "\" (expected a positive integer)");
        }
        p.name = fields[1];
        const auto type =
            std::find_if(kTypeNames.begin(), kTypeNames.end(),
                         [&](const auto& entry) { return entry.second == fields[2]; });
        if (type == kTypeNames.end()) {
          builder.fail(line_no, "unknown employment type \"" + fields[2] +
                                    "\" (expected salaried, self_employed_professional or "
                                    "self_employed_business)");
        }
        p.type = type->first;
        p.aliases = split_aliases(fields[3]);
        builder.add(line_no, std::move(p));
      },
      fail);

  ProfessionCatalogue catalogue;
  catalogue.professions_ = builder.finish();
  return catalogue;
}

ProfessionCatalogue ProfessionCatalogue::from_rows(std::vector<Profession> rows) {
  Builder builder("profession rows");
  for (std::size_t i = 0; i < rows.size(); ++i) builder.add(i + 1, std::move(rows[i]));
  ProfessionCatalogue catalogue;
  catalogue.professions_ = builder.finish();
  return catalogue;
}

const Profession* ProfessionCatalogue::find(int id) const {
  const auto it = std::lower_bound(professions_.begin(), professions_.end(), id,
                                   [](const Profession& p, int v) { return p.id < v; });
  if (it == professions_.end() || it->id != id) return nullptr;
  return &*it;
}

bool ProfessionCatalogue::name_matches(int id, std::string_view name) const {
  const Profession* p = find(id);
  if (p == nullptr) return false;
  const std::string key = name_key(name);
  if (key.empty()) return false;
  if (key == name_key(p->name)) return true;
  return std::any_of(p->aliases.begin(), p->aliases.end(),
                     [&](const std::string& alias) { return key == name_key(alias); });
}

}  // namespace leadgate
