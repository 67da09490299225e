#pragma once
// The profession catalogue (data/professions.csv): id, name, employment type and accepted
// aliases. Loaded once at start; lookups are pure.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace leadgate {

enum class EmploymentType { salaried, self_employed_professional, self_employed_business };
std::string_view employment_type_name(EmploymentType t);  // "salaried", ...

struct Profession {
  int id = 0;
  std::string name;
  EmploymentType type = EmploymentType::salaried;
  std::vector<std::string> aliases;
};

class ProfessionCatalogue {
 public:
  // Throws std::runtime_error naming file and line on a malformed file.
  static ProfessionCatalogue load(const std::string& path);
  static ProfessionCatalogue from_rows(std::vector<Profession> rows);

  const Profession* find(int id) const;
  // True when `name` is the profession's name or one of its aliases, compared
  // case-insensitively and ignoring surrounding/double spaces.
  bool name_matches(int id, std::string_view name) const;
  const std::vector<Profession>& all() const { return professions_; }

 private:
  std::vector<Profession> professions_;  // sorted by id
};

}  // namespace leadgate
