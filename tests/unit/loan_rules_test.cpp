#include "domain/loan_rules.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace leadgate {
namespace {

// A home loan that breaks no rule: ₹20 lakh over 20 years, no property value, comfortable income.
FinancialFacts facts() {
  FinancialFacts f;
  f.loan_type = "HL";
  f.loan_amount = 2'000'000;
  f.tenure_months = 240;
  f.credit_score = 750;
  f.annual_income = 1'200'000;
  f.age_years_today = 35;
  return f;
}

FinancialFacts with_property(std::string type, std::int64_t value, std::int64_t loan) {
  FinancialFacts f = facts();
  f.loan_type = std::move(type);
  f.property_value = value;
  f.loan_amount = loan;
  f.tenure_months = 120;
  return f;
}

std::vector<std::string> codes(const std::vector<RuleWarning>& warnings) {
  std::vector<std::string> out;
  for (const RuleWarning& w : warnings) out.push_back(w.code);
  return out;
}

using Codes = std::vector<std::string>;

// --- Policy -------------------------------------------------------------------------------------

TEST(LoanPolicyTest, DefaultsAreTheDocumentedOnes) {
  const LoanPolicy p = default_loan_policy();
  EXPECT_DOUBLE_EQ(p.lap_max_ltv, 0.65);
  EXPECT_EQ(p.max_age_at_maturity, 70);
  EXPECT_DOUBLE_EQ(p.foir_limit, 0.50);
  EXPECT_EQ(p.reference_rate_pct,
            (std::map<std::string, double>{
                {"HL", 8.5}, {"LAP", 9.5}, {"PL", 11.0}, {"BL", 14.0}, {"CL", 9.0}, {"EL", 10.0}}));
  EXPECT_EQ(p.comfort_credit_score,
            (std::map<std::string, int>{
                {"HL", 650}, {"LAP", 650}, {"PL", 650}, {"BL", 650}, {"CL", 650}, {"EL", 650}}));
  EXPECT_EQ(p.usual_max_tenure_months,
            (std::map<std::string, int>{
                {"HL", 360}, {"LAP", 180}, {"PL", 84}, {"BL", 120}, {"CL", 84}, {"EL", 180}}));
  EXPECT_TRUE(loan_policy_problems(p).empty());
}

TEST(LoanPolicyTest, ProblemsAreReported) {
  LoanPolicy p;
  p.lap_max_ltv = 1.2;
  p.foir_limit = 0;
  p.max_age_at_maturity = 17;
  p.reference_rate_pct.erase("EL");
  p.reference_rate_pct["PL"] = -1;
  p.comfort_credit_score["HL"] = 901;
  p.usual_max_tenure_months["CL"] = 0;
  EXPECT_EQ(
      loan_policy_problems(p),
      (std::vector<std::string>{
          "lap_max_ltv must be above 0 and at most 1", "foir_limit must be above 0 and at most 1",
          "max_age_at_maturity must be 18..100", "usual_max_tenure_months for CL must be 1..600",
          "reference_rate_pct has no entry for EL", "comfort_credit_score for HL must be 300..900",
          "reference_rate_pct for PL must be 0..50"}));
}

// --- hl_max_ltv and EMI -----------------------------------------------------------------------

TEST(HlMaxLtvTest, RbiBands) {
  EXPECT_DOUBLE_EQ(hl_max_ltv(0), 0.90);
  EXPECT_DOUBLE_EQ(hl_max_ltv(1'000'000), 0.90);
  EXPECT_DOUBLE_EQ(hl_max_ltv(3'000'000), 0.90);
  EXPECT_DOUBLE_EQ(hl_max_ltv(3'000'001), 0.80);
  EXPECT_DOUBLE_EQ(hl_max_ltv(7'500'000), 0.80);
  EXPECT_DOUBLE_EQ(hl_max_ltv(7'500'001), 0.75);
  EXPECT_DOUBLE_EQ(hl_max_ltv(100'000'000), 0.75);
}

TEST(EmiTest, MatchesHandComputedValues) {
  // r = 0.01, (1.01)^12 = 1.126825030..., EMI = 10,000 × 1.126825 / 0.126825 = 88,848.79.
  EXPECT_NEAR(emi(1'000'000, 12.0, 12), 88'848.79, 0.01);
  // r = 0.085 / 12 = 0.0070833..., (1+r)^240 = 5.44152..., EMI = 21,695.58.
  EXPECT_NEAR(emi(2'500'000, 8.5, 240), 21'695.58, 0.01);
  // One month: the principal plus one month's interest.
  EXPECT_NEAR(emi(100'000, 12.0, 1), 101'000.0, 1e-6);
  // No interest: equal parts.
  EXPECT_DOUBLE_EQ(emi(1'200'000, 0.0, 120), 10'000.0);
  EXPECT_DOUBLE_EQ(emi(0, 9.0, 120), 0.0);
}

TEST(EmiTest, RejectsNonPositiveMonthsAndBadRates) {
  EXPECT_THROW(emi(100'000, 9.0, 0), std::invalid_argument);
  EXPECT_THROW(emi(100'000, 9.0, -12), std::invalid_argument);
  EXPECT_THROW(emi(100'000, -1.0, 12), std::invalid_argument);
  EXPECT_THROW(emi(100'000, std::numeric_limits<double>::quiet_NaN(), 12), std::invalid_argument);
  EXPECT_THROW(emi(100'000, std::numeric_limits<double>::infinity(), 12), std::invalid_argument);
}

// --- Hard rules: loan-to-value ----------------------------------------------------------------

TEST(HardRulesTest, NothingWrongNoViolations) {
  EXPECT_TRUE(hard_rules(facts(), default_loan_policy()).empty());
}

TEST(HardRulesTest, HlUpTo30LakhAllows90Percent) {
  const LoanPolicy p;
  EXPECT_TRUE(hard_rules(with_property("HL", 3'000'000, 2'700'000), p).empty());  // exactly 90%
  EXPECT_EQ(hard_rules(with_property("HL", 3'000'000, 2'700'300), p),             // 90.01%
            (std::vector<RuleViolation>{
                {"loanAmountReq",
                 "Loan-to-value 90.01% exceeds the 90% RBI ceiling for properties up to ₹30 lakh "
                 "by 0.01 percentage points (maximum loan ₹27,00,000 for a property valued at "
                 "₹30,00,000)"}}));
  // One rupee over: far below 0.01%, still a violation, and never shown as "90.00%".
  const auto one_over = hard_rules(with_property("HL", 3'000'000, 2'700'001), p);
  ASSERT_EQ(one_over.size(), 1u);
  EXPECT_NE(one_over[0].message.find("Loan-to-value 90.01% exceeds the 90% RBI ceiling"),
            std::string::npos);
  EXPECT_TRUE(hard_rules(with_property("HL", 100'000, 90'000), p).empty());
}

TEST(HardRulesTest, HlAbove30LakhAllows80Percent) {
  const LoanPolicy p;
  // ₹30,00,001 × 80% = ₹24,00,000.80: a ₹24,00,000 loan fits, ₹24,00,001 does not.
  EXPECT_TRUE(hard_rules(with_property("HL", 3'000'001, 2'400'000), p).empty());
  EXPECT_EQ(hard_rules(with_property("HL", 3'000'001, 2'400'001), p).size(), 1u);
  EXPECT_EQ(hard_rules(with_property("HL", 3'000'001, 2'430'001), p),  // 81%
            (std::vector<RuleViolation>{
                {"loanAmountReq",
                 "Loan-to-value 81.00% exceeds the 80% RBI ceiling for properties above ₹30 lakh "
                 "up to ₹75 lakh by 1.00 percentage points (maximum loan ₹24,00,000 for a property "
                 "valued at ₹30,00,001)"}}));
  // The band's top: 80% of ₹75,00,000.
  EXPECT_TRUE(hard_rules(with_property("HL", 7'500'000, 6'000'000), p).empty());
  EXPECT_EQ(hard_rules(with_property("HL", 7'500'000, 6'000'001), p).size(), 1u);
}

TEST(HardRulesTest, HlAbove75LakhAllows75Percent) {
  const LoanPolicy p;
  // ₹75,00,001 × 75% = ₹56,25,000.75.
  EXPECT_TRUE(hard_rules(with_property("HL", 7'500'001, 5'625'000), p).empty());
  EXPECT_EQ(hard_rules(with_property("HL", 7'500'001, 5'625'001), p).size(), 1u);
  EXPECT_EQ(hard_rules(with_property("HL", 7'500'001, 5'700'001), p),  // 76%
            (std::vector<RuleViolation>{
                {"loanAmountReq",
                 "Loan-to-value 76.00% exceeds the 75% RBI ceiling for properties above ₹75 lakh "
                 "by 1.00 percentage points (maximum loan ₹56,25,000 for a property valued at "
                 "₹75,00,001)"}}));
  EXPECT_TRUE(hard_rules(with_property("HL", 40'000'000, 30'000'000), p).empty());
}

TEST(HardRulesTest, LapUsesTheLenderCeiling) {
  LoanPolicy p;
  EXPECT_TRUE(hard_rules(with_property("LAP", 1'000'000, 650'000), p).empty());  // 65%
  EXPECT_EQ(hard_rules(with_property("LAP", 1'000'000, 650'100), p),             // 65.01%
            (std::vector<RuleViolation>{
                {"loanAmountReq",
                 "Loan-to-value 65.01% exceeds the lender ceiling of 65% for loans against "
                 "property by 0.01 percentage points (maximum loan ₹6,50,000 for a property "
                 "valued at ₹10,00,000)"}}));
  // LAP does not use the RBI housing bands, even for a small property.
  EXPECT_EQ(hard_rules(with_property("LAP", 1'000'000, 800'000), p).size(), 1u);

  p.lap_max_ltv = 0.705;
  EXPECT_TRUE(hard_rules(with_property("LAP", 1'000'000, 705'000), p).empty());
  const auto v = hard_rules(with_property("LAP", 1'000'000, 705'001), p);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].message.find("the lender ceiling of 70.5% for loans against property by 0.01"),
            std::string::npos);
}

TEST(HardRulesTest, LtvSkippedWhenPropertyValueUnknownOrZeroOrNotHlLap) {
  const LoanPolicy p;
  FinancialFacts f = with_property("HL", 0, 5'000'000);
  EXPECT_TRUE(hard_rules(f, p).empty());
  f.property_value.reset();
  EXPECT_TRUE(hard_rules(f, p).empty());
  f = with_property("LAP", 0, 5'000'000);
  EXPECT_TRUE(hard_rules(f, p).empty());
  for (const char* type : {"PL", "BL", "CL", "EL"}) {
    EXPECT_TRUE(hard_rules(with_property(type, 1'000'000, 5'000'000), p).empty()) << type;
  }
}

TEST(HardRulesTest, LtvDoesNotOverflowOnHugeValues) {
  const LoanPolicy p;
  const std::int64_t big = std::numeric_limits<std::int64_t>::max();
  EXPECT_TRUE(hard_rules(with_property("HL", big, 1'000'000), p).empty());
  EXPECT_EQ(hard_rules(with_property("HL", 1, big), p).size(), 1u);
  EXPECT_TRUE(hard_rules(with_property("LAP", big, big / 2), p).empty());
}

// --- Hard rules: age at maturity --------------------------------------------------------------

TEST(HardRulesTest, AgeAtMaturity70IsFine71IsNot) {
  const LoanPolicy p;
  FinancialFacts f = facts();
  f.age_years_today = 60;
  f.tenure_months = 120;  // 60 + 10 = 70
  EXPECT_TRUE(hard_rules(f, p).empty());
  f.tenure_months = 121;  // a started year counts: 60 + 11 = 71
  EXPECT_EQ(hard_rules(f, p),
            (std::vector<RuleViolation>{
                {"loanTenure",
                 "Age at the end of the tenure would be 71, above the maximum of 70 by 1 year "
                 "(the longest tenure that fits is 120 months)"}}));
  f.tenure_months = 132;  // still 71
  EXPECT_EQ(hard_rules(f, p).size(), 1u);

  f.age_years_today = 65;
  f.tenure_months = 180;  // 80
  EXPECT_EQ(hard_rules(f, p),
            (std::vector<RuleViolation>{
                {"loanTenure",
                 "Age at the end of the tenure would be 80, above the maximum of 70 by 10 years "
                 "(the longest tenure that fits is 60 months)"}}));

  f.age_years_today = 70;
  f.tenure_months = 12;
  EXPECT_EQ(hard_rules(f, p),
            (std::vector<RuleViolation>{
                {"loanTenure",
                 "Age at the end of the tenure would be 71, above the maximum of 70 "
                 "by 1 year"}}));
}

TEST(HardRulesTest, MaxAgeIsConfigurable) {
  LoanPolicy p;
  p.max_age_at_maturity = 75;
  FinancialFacts f = facts();
  f.age_years_today = 60;
  f.tenure_months = 180;  // 75
  EXPECT_TRUE(hard_rules(f, p).empty());
  f.tenure_months = 181;
  EXPECT_EQ(hard_rules(f, p).size(), 1u);
}

TEST(HardRulesTest, BothViolationsInFieldOrder) {
  FinancialFacts f = with_property("HL", 3'000'000, 2'900'000);
  f.age_years_today = 65;
  f.tenure_months = 240;
  const auto v = hard_rules(f, default_loan_policy());
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].field, "loanAmountReq");
  EXPECT_EQ(v[1].field, "loanTenure");
}

// --- Soft rules ----------------------------------------------------------------------------------

TEST(SoftRulesTest, NothingWrongNoWarnings) {
  EXPECT_TRUE(soft_rules(facts(), default_loan_policy()).empty());
}

// With a 0% reference rate for HL, ₹12,00,000 over 120 months is an EMI of exactly ₹10,000.
LoanPolicy interest_free_policy() {
  LoanPolicy p;
  p.reference_rate_pct["HL"] = 0.0;
  return p;
}

FinancialFacts ten_thousand_emi(std::optional<std::int64_t> annual_income) {
  FinancialFacts f = facts();
  f.loan_amount = 1'200'000;
  f.tenure_months = 120;
  f.annual_income = annual_income;
  return f;
}

TEST(SoftRulesTest, FoirExactlyAtLimitIsFineAbove) {
  const LoanPolicy p = interest_free_policy();
  EXPECT_TRUE(soft_rules(ten_thousand_emi(240'000), p).empty());  // ₹20,000 a month: exactly 50%
  EXPECT_TRUE(soft_rules(ten_thousand_emi(240'001), p).empty());
  // ₹19,960.08 a month: 50.1%.
  EXPECT_EQ(soft_rules(ten_thousand_emi(239'521), p),
            (std::vector<RuleWarning>{
                {"FOIR_HIGH",
                 "The EMI of ₹10,000 (at the 0% reference rate for HL over 120 months) is 50.10% "
                 "of the monthly income of ₹19,960, above the FOIR limit of 50%"}}));
  // ₹1 a year less than exactly 50%: shown as 50.01%, never as the limit itself.
  const auto just_over = soft_rules(ten_thousand_emi(239'999), p);
  ASSERT_EQ(codes(just_over), Codes{"FOIR_HIGH"});
  EXPECT_NE(just_over[0].message.find(" is 50.01% of "), std::string::npos);
}

TEST(SoftRulesTest, FoirAtTheReferenceRate) {
  const LoanPolicy p;
  // ₹25 lakh HL over 240 months at 8.5%: EMI ₹21,695.58, so 50% needs ₹5,20,693.94 a year.
  FinancialFacts f = facts();
  f.loan_amount = 2'500'000;
  f.tenure_months = 240;
  f.annual_income = 520'694;
  EXPECT_TRUE(soft_rules(f, p).empty());
  f.annual_income = 520'693;
  EXPECT_EQ(codes(soft_rules(f, p)), Codes{"FOIR_HIGH"});
  f.annual_income = 400'000;  // ₹33,333 a month: 65.09%
  EXPECT_EQ(soft_rules(f, p),
            (std::vector<RuleWarning>{
                {"FOIR_HIGH",
                 "The EMI of ₹21,696 (at the 8.5% reference rate for HL over 240 months) is "
                 "65.09% of the monthly income of ₹33,333, above the FOIR limit of 50%"}}));
}

TEST(SoftRulesTest, FoirCountsCoBorrowerIncomeAndConfigurableLimit) {
  LoanPolicy p = interest_free_policy();
  FinancialFacts f = ten_thousand_emi(120'000);  // ₹10,000 a month alone: 100%
  EXPECT_EQ(codes(soft_rules(f, p)), Codes{"FOIR_HIGH"});
  f.co_borrower_income = 240'000;  // ₹30,000 a month together: 33.3%
  EXPECT_TRUE(soft_rules(f, p).empty());
  f.annual_income.reset();
  f.co_borrower_income = 360'000;  // the co-borrower alone, ₹30,000 a month
  EXPECT_TRUE(soft_rules(f, p).empty());
  p.foir_limit = 0.30;
  EXPECT_EQ(soft_rules(f, p)[0].message,
            "The EMI of ₹10,000 (at the 0% reference rate for HL over 120 months) is 33.33% of "
            "the monthly income of ₹30,000, above the FOIR limit of 30%");
}

TEST(SoftRulesTest, NoIncomeMeansIncomeUnknown) {
  const LoanPolicy p;
  FinancialFacts f = facts();
  f.annual_income.reset();
  EXPECT_EQ(soft_rules(f, p),
            (std::vector<RuleWarning>{
                {"INCOME_UNKNOWN",
                 "FOIR (EMI to income) was not checked: no income above ₹0 was given "
                 "(annualIncome or coBorrowerIncome)"}}));
  f.annual_income = 0;
  EXPECT_EQ(codes(soft_rules(f, p)), Codes{"INCOME_UNKNOWN"});
}

TEST(SoftRulesTest, FoirSkippedWithoutReferenceRate) {
  LoanPolicy p;
  p.reference_rate_pct.erase("HL");
  FinancialFacts f = facts();
  f.annual_income = 1;
  EXPECT_TRUE(soft_rules(f, p).empty());
}

TEST(SoftRulesTest, CreditScoreBelowComfort) {
  LoanPolicy p;
  FinancialFacts f = facts();
  f.credit_score = 650;
  EXPECT_TRUE(soft_rules(f, p).empty());
  f.credit_score = 649;
  EXPECT_EQ(soft_rules(f, p),
            (std::vector<RuleWarning>{
                {"CREDIT_SCORE_BELOW_COMFORT",
                 "Credit score 649 is below the comfort level of 650 for HL by 1 point"}}));
  f.credit_score = 600;
  EXPECT_EQ(soft_rules(f, p)[0].message,
            "Credit score 600 is below the comfort level of 650 for HL by 50 points");
  p.comfort_credit_score["HL"] = 700;
  f.credit_score = 699;
  EXPECT_EQ(codes(soft_rules(f, p)), Codes{"CREDIT_SCORE_BELOW_COMFORT"});
  p.comfort_credit_score.erase("HL");
  EXPECT_TRUE(soft_rules(f, p).empty());
}

TEST(SoftRulesTest, TenureAboveUsualMaximum) {
  const LoanPolicy p;
  FinancialFacts f = facts();
  f.tenure_months = 360;
  f.annual_income = 10'000'000;
  EXPECT_TRUE(soft_rules(f, p).empty());
  f.tenure_months = 361;
  EXPECT_EQ(soft_rules(f, p),
            (std::vector<RuleWarning>{
                {"TENURE_ABOVE_USUAL",
                 "Tenure of 361 months is above the usual maximum of 360 months for HL by 1 "
                 "month"}}));
  f.loan_type = "PL";
  f.tenure_months = 84;
  EXPECT_TRUE(soft_rules(f, p).empty());
  f.tenure_months = 96;
  EXPECT_EQ(soft_rules(f, p)[0].message,
            "Tenure of 96 months is above the usual maximum of 84 months for PL by 12 months");
  for (const auto& [type, usual] : p.usual_max_tenure_months) {
    f.loan_type = type;
    f.tenure_months = usual;
    EXPECT_TRUE(soft_rules(f, p).empty()) << type;
    f.tenure_months = usual + 1;
    EXPECT_EQ(codes(soft_rules(f, p)), Codes{"TENURE_ABOVE_USUAL"}) << type;
  }
}

TEST(SoftRulesTest, AllWarningsInOrder) {
  FinancialFacts f = facts();
  f.annual_income.reset();
  f.credit_score = 500;
  f.tenure_months = 400;
  EXPECT_EQ(codes(soft_rules(f, default_loan_policy())),
            (Codes{"INCOME_UNKNOWN", "CREDIT_SCORE_BELOW_COMFORT", "TENURE_ABOVE_USUAL"}));
  f.annual_income = 100'000;
  EXPECT_EQ(codes(soft_rules(f, default_loan_policy())),
            (Codes{"FOIR_HIGH", "CREDIT_SCORE_BELOW_COMFORT", "TENURE_ABOVE_USUAL"}));
}

// --- format_inr
// -----------------------------------------------------------------------------------

TEST(FormatInrTest, IndianDigitGrouping) {
  EXPECT_EQ(format_inr(0), "₹0");
  EXPECT_EQ(format_inr(7), "₹7");
  EXPECT_EQ(format_inr(999), "₹999");
  EXPECT_EQ(format_inr(1'000), "₹1,000");
  EXPECT_EQ(format_inr(12'345), "₹12,345");
  EXPECT_EQ(format_inr(99'999), "₹99,999");
  EXPECT_EQ(format_inr(100'000), "₹1,00,000");
  EXPECT_EQ(format_inr(650'000), "₹6,50,000");
  EXPECT_EQ(format_inr(2'400'000), "₹24,00,000");
  EXPECT_EQ(format_inr(10'000'000), "₹1,00,00,000");
  EXPECT_EQ(format_inr(123'456'789), "₹12,34,56,789");
  EXPECT_EQ(format_inr(-500), "-₹500");
  EXPECT_EQ(format_inr(-2'400'000), "-₹24,00,000");
  EXPECT_EQ(format_inr(std::numeric_limits<std::int64_t>::max()), "₹92,23,37,20,36,85,47,75,807");
  EXPECT_EQ(format_inr(std::numeric_limits<std::int64_t>::min()), "-₹92,23,37,20,36,85,47,75,808");
}

}  // namespace
}  // namespace leadgate
