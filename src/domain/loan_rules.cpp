#include "domain/loan_rules.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace leadgate {
namespace {

constexpr std::int64_t kThirtyLakh = 3'000'000;
constexpr std::int64_t kSeventyFiveLakh = 7'500'000;
constexpr std::int64_t kBasisPointsPerUnit = 10'000;  // 1.0 == 100.00% == 10,000 hundredths

// A ceiling as an exact number of hundredths of a percent, with the words that name it.
struct Ceiling {
  std::int64_t hundredths;
  std::string description;
};

std::int64_t hl_ceiling_hundredths(std::int64_t property_value) {
  if (property_value <= kThirtyLakh) return 9000;
  if (property_value <= kSeventyFiveLakh) return 8000;
  return 7500;
}

// A fraction (0.65) as hundredths of a percent (6500), clamped to 0..100%.
std::int64_t fraction_to_hundredths(double fraction) {
  if (!(fraction > 0)) return 0;  // also NaN
  if (fraction >= 1) return kBasisPointsPerUnit;
  return std::llround(fraction * static_cast<double>(kBasisPointsPerUnit));
}

// "90", "65.5", "65.25": a percentage given in hundredths, without trailing zeros.
std::string percent_trimmed(std::int64_t hundredths) {
  std::string text = std::to_string(hundredths / 100);
  const std::int64_t rest = hundredths % 100;
  if (rest != 0) {
    text += '.';
    text += static_cast<char>('0' + rest / 10);
    if (rest % 10 != 0) text += static_cast<char>('0' + rest % 10);
  }
  return text;
}

// "81.00": a percentage given in hundredths, always with two decimals.
std::string percent_2dp(std::int64_t hundredths) {
  const std::int64_t rest = hundredths % 100;
  return std::to_string(hundredths / 100) + "." + static_cast<char>('0' + rest / 10) +
         static_cast<char>('0' + rest % 10);
}

// `ratio` (found above `limit_hundredths` / 10,000 by the caller's exact test) in hundredths of a
// percent, rounded to the nearest but at least one hundredth above the limit, so a message never
// shows the value at or below the limit it exceeds.
std::int64_t excess_hundredths(double ratio, std::int64_t limit_hundredths) {
  const double scaled = std::min(ratio * static_cast<double>(kBasisPointsPerUnit), 1e15);
  return std::max(static_cast<std::int64_t>(std::llround(scaled)), limit_hundredths + 1);
}

// floor(value × hundredths / 10,000) without overflow (value >= 0, hundredths in 0..10,000).
std::int64_t max_loan_for(std::int64_t value, std::int64_t hundredths) {
  return (value / kBasisPointsPerUnit) * hundredths +
         (value % kBasisPointsPerUnit) * hundredths / kBasisPointsPerUnit;
}

std::string plural(std::int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string rate_text(double annual_rate_pct) {
  // Rates are configured to at most two decimals; show them the way they were written.
  return percent_trimmed(std::llround(annual_rate_pct * 100));
}

std::optional<RuleViolation> ltv_rule(const FinancialFacts& f, const LoanPolicy& policy) {
  if (!f.property_value || *f.property_value <= 0) return std::nullopt;
  const std::int64_t value = *f.property_value;
  Ceiling ceiling;
  if (f.loan_type == "HL") {
    ceiling.hundredths = hl_ceiling_hundredths(value);
    const std::string pct = percent_trimmed(ceiling.hundredths);
    if (value <= kThirtyLakh) {
      ceiling.description = "the " + pct + "% RBI ceiling for properties up to ₹30 lakh";
    } else if (value <= kSeventyFiveLakh) {
      ceiling.description =
          "the " + pct + "% RBI ceiling for properties above ₹30 lakh up to ₹75 lakh";
    } else {
      ceiling.description = "the " + pct + "% RBI ceiling for properties above ₹75 lakh";
    }
  } else if (f.loan_type == "LAP") {
    ceiling.hundredths = fraction_to_hundredths(policy.lap_max_ltv);
    ceiling.description = "the lender ceiling of " + percent_trimmed(ceiling.hundredths) +
                          "% for loans against property";
  } else {
    return std::nullopt;
  }

  const std::int64_t max_loan = max_loan_for(value, ceiling.hundredths);
  if (f.loan_amount <= max_loan) return std::nullopt;

  const std::int64_t ltv = excess_hundredths(
      static_cast<double>(f.loan_amount) / static_cast<double>(value), ceiling.hundredths);
  return RuleViolation{"loanAmountReq",
                       "Loan-to-value " + percent_2dp(ltv) + "% exceeds " + ceiling.description +
                           " by " + percent_2dp(ltv - ceiling.hundredths) +
                           " percentage points (maximum loan " + format_inr(max_loan) +
                           " for a property valued at " + format_inr(value) + ")"};
}

std::optional<RuleViolation> age_rule(const FinancialFacts& f, const LoanPolicy& policy) {
  const std::int64_t tenure = std::max(f.tenure_months, 0);
  const std::int64_t age_at_maturity = std::int64_t{f.age_years_today} + (tenure + 11) / 12;
  const std::int64_t over = age_at_maturity - policy.max_age_at_maturity;
  if (over <= 0) return std::nullopt;
  std::string message = "Age at the end of the tenure would be " + std::to_string(age_at_maturity) +
                        ", above the maximum of " + std::to_string(policy.max_age_at_maturity) +
                        " by " + plural(over, "year", "years");
  const std::int64_t years_left = std::int64_t{policy.max_age_at_maturity} - f.age_years_today;
  if (years_left > 0) {
    message += " (the longest tenure that fits is " + std::to_string(years_left * 12) + " months)";
  }
  return RuleViolation{"loanTenure", std::move(message)};
}

template <class Map>
const typename Map::mapped_type* lookup(const Map& map, const std::string& key) {
  const auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}

}  // namespace

LoanPolicy default_loan_policy() {
  return LoanPolicy{};
}

std::vector<std::string> loan_policy_problems(const LoanPolicy& p) {
  std::vector<std::string> problems;
  if (!(p.lap_max_ltv > 0 && p.lap_max_ltv <= 1)) {
    problems.push_back("lap_max_ltv must be above 0 and at most 1");
  }
  if (!(p.foir_limit > 0 && p.foir_limit <= 1)) {
    problems.push_back("foir_limit must be above 0 and at most 1");
  }
  if (p.max_age_at_maturity < 18 || p.max_age_at_maturity > 100) {
    problems.push_back("max_age_at_maturity must be 18..100");
  }
  const LoanPolicy defaults;
  for (const auto& [type, unused] : defaults.reference_rate_pct) {
    const double* rate = lookup(p.reference_rate_pct, type);
    if (rate == nullptr) {
      problems.push_back("reference_rate_pct has no entry for " + type);
    } else if (!(*rate >= 0 && *rate <= 50)) {
      problems.push_back("reference_rate_pct for " + type + " must be 0..50");
    }
    const int* score = lookup(p.comfort_credit_score, type);
    if (score == nullptr) {
      problems.push_back("comfort_credit_score has no entry for " + type);
    } else if (*score < 300 || *score > 900) {
      problems.push_back("comfort_credit_score for " + type + " must be 300..900");
    }
    const int* tenure = lookup(p.usual_max_tenure_months, type);
    if (tenure == nullptr) {
      problems.push_back("usual_max_tenure_months has no entry for " + type);
    } else if (*tenure < 1 || *tenure > 600) {
      problems.push_back("usual_max_tenure_months for " + type + " must be 1..600");
    }
  }
  return problems;
}

double hl_max_ltv(std::int64_t property_value) {
  return static_cast<double>(hl_ceiling_hundredths(property_value)) /
         static_cast<double>(kBasisPointsPerUnit);
}

double emi(std::int64_t principal, double annual_rate_pct, int months) {
  if (months <= 0) throw std::invalid_argument("emi: months must be positive");
  if (!(annual_rate_pct >= 0) || !std::isfinite(annual_rate_pct)) {
    throw std::invalid_argument("emi: the annual rate must be a finite number >= 0");
  }
  const double p = static_cast<double>(principal);
  const double r = annual_rate_pct / 12.0 / 100.0;
  if (r == 0) return p / months;
  // P·r·(1+r)^n / ((1+r)^n − 1) == P·r / (1 − (1+r)^−n); expm1/log1p keep precision for small r.
  return p * r / -std::expm1(-months * std::log1p(r));
}

std::vector<RuleViolation> hard_rules(const FinancialFacts& facts, const LoanPolicy& policy) {
  std::vector<RuleViolation> out;
  if (auto v = ltv_rule(facts, policy)) out.push_back(std::move(*v));
  if (auto v = age_rule(facts, policy)) out.push_back(std::move(*v));
  return out;
}

std::vector<RuleWarning> soft_rules(const FinancialFacts& f, const LoanPolicy& policy) {
  std::vector<RuleWarning> out;

  const double monthly_income = (static_cast<double>(f.annual_income.value_or(0)) +
                                 static_cast<double>(f.co_borrower_income)) /
                                12.0;
  if (monthly_income > 0) {
    const double* rate = lookup(policy.reference_rate_pct, f.loan_type);
    if (rate != nullptr && f.tenure_months > 0 && *rate >= 0 && std::isfinite(*rate)) {
      const double instalment = emi(f.loan_amount, *rate, f.tenure_months);
      const double foir = instalment / monthly_income;
      if (foir > policy.foir_limit) {
        const std::int64_t limit = fraction_to_hundredths(policy.foir_limit);
        out.push_back(RuleWarning{
            "FOIR_HIGH",
            "The EMI of " + format_inr(std::llround(instalment)) + " (at the " + rate_text(*rate) +
                "% reference rate for " + f.loan_type + " over " + std::to_string(f.tenure_months) +
                " months) is " + percent_2dp(excess_hundredths(foir, limit)) +
                "% of the monthly income of " + format_inr(std::llround(monthly_income)) +
                ", above the FOIR limit of " + percent_trimmed(limit) + "%"});
      }
    }
  } else {
    out.push_back(RuleWarning{"INCOME_UNKNOWN",
                              "FOIR (EMI to income) was not checked: no income above ₹0 was given "
                              "(annualIncome or coBorrowerIncome)"});
  }

  if (const int* comfort = lookup(policy.comfort_credit_score, f.loan_type);
      comfort != nullptr && f.credit_score < *comfort) {
    out.push_back(RuleWarning{
        "CREDIT_SCORE_BELOW_COMFORT",
        "Credit score " + std::to_string(f.credit_score) + " is below the comfort level of " +
            std::to_string(*comfort) + " for " + f.loan_type + " by " +
            plural(std::int64_t{*comfort} - f.credit_score, "point", "points")});
  }

  if (const int* usual = lookup(policy.usual_max_tenure_months, f.loan_type);
      usual != nullptr && f.tenure_months > *usual) {
    out.push_back(RuleWarning{
        "TENURE_ABOVE_USUAL",
        "Tenure of " + std::to_string(f.tenure_months) + " months is above the usual maximum of " +
            std::to_string(*usual) + " months for " + f.loan_type + " by " +
            plural(std::int64_t{f.tenure_months} - *usual, "month", "months")});
  }
  return out;
}

std::string format_inr(std::int64_t rupees) {
  // Magnitude as unsigned, so INT64_MIN formats too.
  const bool negative = rupees < 0;
  const std::uint64_t magnitude =
      negative ? ~static_cast<std::uint64_t>(rupees) + 1 : static_cast<std::uint64_t>(rupees);
  const std::string digits = std::to_string(magnitude);

  // Last three digits form one group; every two digits before them form another.
  std::string grouped;
  const std::size_t n = digits.size();
  const std::size_t head = n > 3 ? n - 3 : 0;  // digits before the last group of three
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0 && i <= head && (head - i) % 2 == 0) grouped.push_back(',');
    grouped.push_back(digits[i]);
  }
  return std::string(negative ? "-" : "") + "₹" + grouped;
}

}  // namespace leadgate
