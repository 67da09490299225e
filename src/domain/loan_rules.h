#pragma once
// Financial consistency rules of lead_flash (issue 4, api-wireframes 1B step 4). Pure functions:
// the caller gathers the facts (merged lead + flash details) and the environment's policy.
//
// Hard rules fail the request (422, one entry per field); soft rules accept it and return
// warnings[] with a stable code. Every limit names itself and says by how much it was missed.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace leadgate {

// Limits and rates, per environment (configuration). The in-class values are the defaults
// documented in issue 4, so LoanPolicy{} == default_loan_policy().
struct LoanPolicy {
  // Lender ceiling on loan / property value for LAP. Applied to a hundredth of a percent
  // (0.65 -> 65.00%): the value is rounded to the nearest 0.0001 before use.
  double lap_max_ltv = 0.65;
  int max_age_at_maturity = 70;  // full years, see hard_rules
  double foir_limit = 0.50;      // EMI / monthly income
  // Annual % used to estimate the EMI for FOIR, per loan type. ASSUMPTIONS, not quotes: round
  // figures in the range Indian lenders advertised in 2024-25 (HL 8.5, LAP 9.5, PL 11, BL 14,
  // CL 9, EL 10). Set the lender's own rates in configuration.
  std::map<std::string, double> reference_rate_pct = {{"HL", 8.5},  {"LAP", 9.5}, {"PL", 11.0},
                                                      {"BL", 14.0}, {"CL", 9.0},  {"EL", 10.0}};
  // Credit score below which CREDIT_SCORE_BELOW_COMFORT is raised, per loan type.
  std::map<std::string, int> comfort_credit_score = {{"HL", 650}, {"LAP", 650}, {"PL", 650},
                                                     {"BL", 650}, {"CL", 650},  {"EL", 650}};
  // Tenure (months) above which TENURE_ABOVE_USUAL is raised, per loan type.
  std::map<std::string, int> usual_max_tenure_months = {{"HL", 360}, {"LAP", 180}, {"PL", 84},
                                                        {"BL", 120}, {"CL", 84},   {"EL", 180}};
};

LoanPolicy default_loan_policy();

// What is wrong with a policy from configuration ("" entries never; empty vector when fine):
// lap_max_ltv and foir_limit in (0, 1], max_age_at_maturity 18..100, reference rates 0..50 %,
// comfort scores 300..900, usual tenures 1..600 months, and every map has an entry for each loan
// type of default_loan_policy() (HL, LAP, PL, BL, CL, EL).
std::vector<std::string> loan_policy_problems(const LoanPolicy& policy);

// RBI ceiling on loan-to-value for housing loans, by property value in rupees: up to ₹30 lakh
// 0.90; above ₹30 lakh up to ₹75 lakh 0.80; above ₹75 lakh 0.75.
double hl_max_ltv(std::int64_t property_value);

// Equated monthly instalment in rupees (unrounded): P·r·(1+r)^n / ((1+r)^n − 1) with
// r = annual_rate_pct / 12 / 100; P / n when the rate is 0. Throws std::invalid_argument when
// months <= 0.
double emi(std::int64_t principal, double annual_rate_pct, int months);

struct RuleViolation {  // hard rule: one entry of the 422 response
  std::string field;    // JSON field name, e.g. "loanAmountReq"
  std::string message;

  friend bool operator==(const RuleViolation&, const RuleViolation&) = default;
};

struct RuleWarning {  // soft rule: one entry of warnings[]
  std::string code;   // FOIR_HIGH, INCOME_UNKNOWN, CREDIT_SCORE_BELOW_COMFORT, TENURE_ABOVE_USUAL
  std::string message;

  friend bool operator==(const RuleWarning&, const RuleWarning&) = default;
};

struct FinancialFacts {
  std::string loan_type;         // HL, LAP, PL, BL, CL, EL
  std::int64_t loan_amount = 0;  // whole rupees
  int tenure_months = 0;
  int credit_score = 0;
  std::optional<std::int64_t> property_value;  // whole rupees
  std::optional<std::int64_t> annual_income;   // whole rupees
  std::int64_t co_borrower_income = 0;         // annual, whole rupees
  int age_years_today = 0;                     // full years, in IST
};

// Hard rules, in this order (at most one entry per field):
//  - "loanAmountReq": loan-to-value above the ceiling. HL: hl_max_ltv(property value); LAP:
//    policy.lap_max_ltv; other loan types: no LTV rule. Checked only when the property value is
//    known and above 0 (propertyValue 0, allowed when no property is identified yet, means "not
//    known"). Decided exactly in whole rupees: the maximum loan is floor(value × ceiling) and a
//    loan above it fails, so exactly 90% of ₹30,00,000 passes and ₹1 more fails. The LTV in the
//    message is rounded to 0.01%, but never shown at or below the ceiling (80.004% reads 80.01%).
//  - "loanTenure": age at maturity = age_years_today + ceil(tenure_months / 12) above
//    policy.max_age_at_maturity. That is the highest age in full years the customer can have on
//    the last EMI date (the day of the birthday within the current year is unknown here), so the
//    rule never lets through a customer who would be over the maximum.
std::vector<RuleViolation> hard_rules(const FinancialFacts& facts, const LoanPolicy& policy);

// Soft rules, in this order:
//  - FOIR_HIGH: monthly income = (annual_income + co_borrower_income) / 12 is above 0 and
//    emi(loan, reference rate of the type, tenure) / monthly income > policy.foir_limit (exactly
//    at the limit is fine).
//  - INCOME_UNKNOWN: instead of FOIR_HIGH when the monthly income is not above 0 (no annual
//    income given, or ₹0, and no co-borrower income), since affordability could not be checked.
//  - CREDIT_SCORE_BELOW_COMFORT: credit_score < the comfort level of the type.
//  - TENURE_ABOVE_USUAL: tenure_months > the usual maximum of the type.
// A loan type missing from a policy map skips that map's rule (loan_policy_problems reports it).
std::vector<RuleWarning> soft_rules(const FinancialFacts& facts, const LoanPolicy& policy);

// Rupees with Indian digit grouping: "₹0", "₹1,000", "₹24,00,000", "₹1,00,00,000", "-₹500".
std::string format_inr(std::int64_t rupees);

}  // namespace leadgate
