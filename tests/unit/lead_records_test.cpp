#include "services/lead_records.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "crypto/crypto.h"

namespace leadgate {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

PiiCipher test_cipher(char fill = '\x42') {
  return PiiCipher(std::string(PiiCipher::kMasterKeySize, fill));
}

LeadInput full_lead() {
  LeadInput in;
  in.environment = "orbit";
  in.first_name = "Priyanka";
  in.last_name = "Sharma";
  in.mobile = "9876543210";
  in.email = "priyanka.sharma@example.com";
  in.pan = "ABCPE1234F";
  in.loan_type = "HL";
  in.loan_amount_req = 4'500'000;
  in.loan_tenure = 240;
  in.credit_score = 765;
  in.pincode = "560001";
  in.date_of_birth = "1988-11-23";
  in.gender = "Female";
  in.application_assigned_to_rm = "Ravi Kumar";
  in.remarks = "Wants a callback on Saturday";
  in.state = "Karnataka";
  in.customer_id = "CUST-1234";
  in.qr_short_code = "QR77";
  in.annual_income = 2'400'000;
  in.include_credit_score = false;
  in.is_lead_prefilled = true;
  return in;
}

LeadInput minimal_lead() {
  LeadInput in;
  in.environment = "homfinity";
  in.first_name = "Arun";
  in.last_name = "Rao";
  in.mobile = "9123456789";
  in.email = "arun@example.in";
  in.pan = "BQRPR5678K";
  in.loan_type = "PL";
  in.loan_amount_req = 300'000;
  in.loan_tenure = 36;
  in.credit_score = 700;
  in.pincode = "110001";
  in.date_of_birth = "1995-02-01";
  return in;
}

void expect_same_lead(const LeadInput& a, const LeadInput& b) {
  EXPECT_EQ(a.environment, b.environment);
  EXPECT_EQ(a.first_name, b.first_name);
  EXPECT_EQ(a.last_name, b.last_name);
  EXPECT_EQ(a.mobile, b.mobile);
  EXPECT_EQ(a.email, b.email);
  EXPECT_EQ(a.pan, b.pan);
  EXPECT_EQ(a.loan_type, b.loan_type);
  EXPECT_EQ(a.loan_amount_req, b.loan_amount_req);
  EXPECT_EQ(a.loan_tenure, b.loan_tenure);
  EXPECT_EQ(a.credit_score, b.credit_score);
  EXPECT_EQ(a.pincode, b.pincode);
  EXPECT_EQ(a.date_of_birth, b.date_of_birth);
  EXPECT_EQ(a.gender, b.gender);
  EXPECT_EQ(a.application_assigned_to_rm, b.application_assigned_to_rm);
  EXPECT_EQ(a.remarks, b.remarks);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.customer_id, b.customer_id);
  EXPECT_EQ(a.qr_short_code, b.qr_short_code);
  EXPECT_EQ(a.annual_income, b.annual_income);
  EXPECT_EQ(a.include_credit_score, b.include_credit_score);
  EXPECT_EQ(a.is_lead_prefilled, b.is_lead_prefilled);
}

// Raw PII of `in` that must never reach a stored sealed column or an audit value.
std::vector<std::string> raw_pii(const LeadInput& in) {
  std::vector<std::string> out{in.first_name, in.last_name, in.mobile,
                               in.email,      in.pan,       in.date_of_birth};
  out.push_back(in.email.substr(0, in.email.find('@')));  // the local part alone
  if (in.remarks) out.push_back(*in.remarks);
  if (in.annual_income) out.push_back(std::to_string(*in.annual_income));
  out.push_back(std::to_string(in.credit_score));
  return out;
}

// ---- Sealing ----

TEST(SealLeadFields, RoundTripsFullLead) {
  const auto cipher = test_cipher();
  const LeadInput in = full_lead();
  LeadRow row;
  seal_lead_fields(in, cipher, row);
  expect_same_lead(open_lead(row, cipher), in);
}

TEST(SealLeadFields, RoundTripsMinimalLead) {
  const auto cipher = test_cipher();
  const LeadInput in = minimal_lead();
  LeadRow row;
  seal_lead_fields(in, cipher, row);
  EXPECT_FALSE(row.state.has_value());
  EXPECT_FALSE(row.annual_income_enc.has_value());
  expect_same_lead(open_lead(row, cipher), in);
}

TEST(SealLeadFields, SealedColumnsHoldNoPlaintext) {
  const auto cipher = test_cipher();
  const LeadInput in = full_lead();
  LeadRow row;
  seal_lead_fields(in, cipher, row);
  const std::map<std::string, std::string> sealed{{"first_name_enc", row.first_name_enc},
                                                  {"last_name_enc", row.last_name_enc},
                                                  {"mobile_enc", row.mobile_enc},
                                                  {"email_enc", row.email_enc},
                                                  {"pan_enc", row.pan_enc},
                                                  {"dob_enc", row.dob_enc},
                                                  {"credit_score", row.credit_score_enc},
                                                  {"annual_income", *row.annual_income_enc},
                                                  {"remarks", *row.remarks_enc}};
  for (const auto& [column, value] : sealed) {
    SCOPED_TRACE(column);
    EXPECT_THAT(value, StartsWith("v1:"));
    for (const auto& pii : raw_pii(in)) {
      if (pii.size() >= 4) {
        EXPECT_THAT(value, Not(HasSubstr(pii)));
      }
    }
  }
  for (const auto& pii : {in.mobile, in.pan}) {
    EXPECT_THAT(row.mobile_bidx, Not(HasSubstr(pii)));
    EXPECT_THAT(row.pan_bidx, Not(HasSubstr(pii)));
  }
}

TEST(SealLeadFields, RowsWrittenBeforeSchema13AreReadAndSealedLater) {
  const auto cipher = test_cipher();
  const LeadInput in = full_lead();
  LeadRow row;
  seal_lead_fields(in, cipher, row);
  row.credit_score_enc = std::to_string(in.credit_score);  // as an older version stored them
  row.annual_income_enc = std::to_string(*in.annual_income);
  row.remarks_enc = "v1: a remark that only looks sealed";
  LeadInput expected = in;
  expected.remarks = row.remarks_enc;
  expect_same_lead(open_lead(row, cipher), expected);

  const SealedLeadFields sealed = seal_plaintext_fields(
      cipher, {row.id, row.credit_score_enc, row.annual_income_enc, std::string("a remark")});
  EXPECT_THAT(sealed.credit_score, StartsWith("v1:"));
  EXPECT_THAT(*sealed.annual_income, StartsWith("v1:"));
  EXPECT_THAT(*sealed.remarks, StartsWith("v1:"));
  row.credit_score_enc = sealed.credit_score;
  row.annual_income_enc = sealed.annual_income;
  row.remarks_enc = sealed.remarks;
  expected.remarks = "a remark";
  expect_same_lead(open_lead(row, cipher), expected);
  // What is sealed already stays as it is; NULLs stay NULL.
  const SealedLeadFields again = seal_plaintext_fields(cipher, {7, sealed.credit_score, {}, {}});
  EXPECT_EQ(again.credit_score, sealed.credit_score);
  EXPECT_FALSE(again.annual_income.has_value());
  EXPECT_FALSE(again.remarks.has_value());
}

TEST(SealLeadFields, EachSealUsesAFreshNonce) {
  const auto cipher = test_cipher();
  LeadRow a;
  LeadRow b;
  seal_lead_fields(full_lead(), cipher, a);
  seal_lead_fields(full_lead(), cipher, b);
  EXPECT_NE(a.mobile_enc, b.mobile_enc);
  EXPECT_NE(a.pan_enc, b.pan_enc);
  // Blind indexes are deterministic: they are what lookups match on.
  EXPECT_EQ(a.mobile_bidx, b.mobile_bidx);
  EXPECT_EQ(a.pan_bidx, b.pan_bidx);
}

TEST(SealLeadFields, BlindIndexes) {
  const auto cipher = test_cipher();
  LeadRow row;
  seal_lead_fields(full_lead(), cipher, row);
  EXPECT_EQ(row.mobile_bidx, mobile_blind_index(cipher, "9876543210"));
  EXPECT_EQ(row.mobile_bidx, cipher.blind_index("mobile", "9876543210"));
  EXPECT_EQ(row.pan_bidx, cipher.blind_index("pan", "ABCPE1234F"));
  EXPECT_EQ(row.mobile_bidx.size(), 64u);
  EXPECT_NE(mobile_blind_index(cipher, "9876543210"), mobile_blind_index(cipher, "9876543211"));
  EXPECT_NE(mobile_blind_index(cipher, "9876543210"),
            mobile_blind_index(test_cipher('\x43'), "9876543210"))
      << "another master key gives another index";
}

TEST(SealLeadFields, IdsAndStatusLeftAlone) {
  const auto cipher = test_cipher();
  LeadRow row;
  row.id = 77;
  row.reference_id = "LG-77";
  row.status = "created";
  row.basic_application_id = "B002BJF";
  row.application_id = "uuid";
  row.request_id = "req-9";
  row.created_at = 5;
  seal_lead_fields(full_lead(), cipher, row);
  EXPECT_EQ(row.id, 77);
  EXPECT_EQ(row.reference_id, "LG-77");
  EXPECT_EQ(row.status, "created");
  EXPECT_EQ(row.basic_application_id, "B002BJF");
  EXPECT_EQ(row.application_id, "uuid");
  EXPECT_EQ(row.request_id, "req-9");
  EXPECT_EQ(row.created_at, 5);
  EXPECT_EQ(row.environment, "orbit");
  EXPECT_EQ(row.loan_type, "HL");
}

TEST(SealLeadFields, ResealingClearsOptionalsThatWentAway) {
  const auto cipher = test_cipher();
  LeadRow row;
  seal_lead_fields(full_lead(), cipher, row);
  LeadInput updated = full_lead();
  updated.remarks.reset();
  updated.annual_income.reset();
  seal_lead_fields(updated, cipher, row);
  EXPECT_FALSE(row.remarks_enc.has_value());
  EXPECT_FALSE(row.annual_income_enc.has_value());
  expect_same_lead(open_lead(row, cipher), updated);
}

TEST(OpenLead, WrongKeyThrows) {
  LeadRow row;
  seal_lead_fields(full_lead(), test_cipher('\x01'), row);
  EXPECT_THROW(open_lead(row, test_cipher('\x02')), std::runtime_error);
}

TEST(OpenLead, SwappedColumnsThrow) {
  const auto cipher = test_cipher();
  LeadRow row;
  seal_lead_fields(full_lead(), cipher, row);
  std::swap(row.mobile_enc, row.pan_enc);  // sealed for another purpose
  EXPECT_THROW(open_lead(row, cipher), std::runtime_error);
}

TEST(OpenLead, EmptyDobColumnOpensAsEmpty) {
  const auto cipher = test_cipher();
  LeadRow row;
  seal_lead_fields(full_lead(), cipher, row);
  row.dob_enc.clear();
  EXPECT_EQ(open_lead(row, cipher).date_of_birth, "");
}

// ---- Field values and audit ----

TEST(LeadFieldValues, NamesAreTheJsonNames) {
  std::set<std::string> names;
  for (const auto& f : lead_field_values(full_lead())) names.insert(f.field);
  EXPECT_EQ(names, (std::set<std::string>{"firstName",
                                          "lastName",
                                          "mobile",
                                          "email",
                                          "pan",
                                          "loanType",
                                          "loanAmountReq",
                                          "loanTenure",
                                          "creditScore",
                                          "pincode",
                                          "dateOfBirth",
                                          "gender",
                                          "annualIncome",
                                          "applicationAssignedToRm",
                                          "remarks",
                                          "state",
                                          "customerId",
                                          "qrShortCode",
                                          "includeCreditScore",
                                          "isLeadPrefilled"}));
}

TEST(LeadFieldValues, SensitiveFieldsMasked) {
  std::map<std::string, FieldValue> by_name;
  for (const auto& f : lead_field_values(full_lead())) by_name[f.field] = f;
  EXPECT_EQ(by_name["mobile"].value, "9876543210");
  EXPECT_EQ(by_name["mobile"].masked, mask_mobile("9876543210"));
  EXPECT_EQ(by_name["pan"].masked, mask_pan("ABCPE1234F"));
  EXPECT_EQ(by_name["email"].masked, mask_email("priyanka.sharma@example.com"));
  EXPECT_EQ(by_name["firstName"].masked, mask_generic("Priyanka"));
  EXPECT_EQ(by_name["lastName"].masked, mask_generic("Sharma"));
  EXPECT_EQ(by_name["dateOfBirth"].masked, "XXXX-XX-XX");
  EXPECT_EQ(by_name["remarks"].masked, mask_generic("Wants a callback on Saturday"));
  EXPECT_EQ(by_name["loanAmountReq"].masked, "4500000");
  EXPECT_EQ(by_name["annualIncome"].value, "2400000");
  EXPECT_EQ(by_name["annualIncome"].masked, "***");
  EXPECT_EQ(by_name["creditScore"].masked, "***");
  EXPECT_EQ(by_name["includeCreditScore"].value, "false");
  EXPECT_EQ(by_name["isLeadPrefilled"].value, "true");
}

TEST(DiffAudit, CreationListsNonEmptyFieldsOnly) {
  const LeadInput in = minimal_lead();
  const auto entries = diff_audit(nullptr, in, "created");
  std::set<std::string> fields;
  for (const auto& a : entries) {
    fields.insert(a.field);
    EXPECT_EQ(a.operation, "created");
    EXPECT_EQ(a.environment, "homfinity");
    EXPECT_EQ(a.old_value, "");
    EXPECT_FALSE(a.new_value.empty()) << a.field;
  }
  EXPECT_EQ(entries.size(), fields.size()) << "one entry per field";
  EXPECT_EQ(fields,
            (std::set<std::string>{"firstName", "lastName", "mobile", "email", "pan", "loanType",
                                   "loanAmountReq", "loanTenure", "creditScore", "pincode",
                                   "dateOfBirth", "includeCreditScore", "isLeadPrefilled"}));
}

TEST(DiffAudit, CreationOfFullLeadListsEveryField) {
  EXPECT_EQ(diff_audit(nullptr, full_lead(), "created").size(),
            lead_field_values(full_lead()).size());
}

TEST(DiffAudit, NoRawPiiInAnyValue) {
  for (const LeadInput& in : {full_lead(), minimal_lead()}) {
    LeadInput changed = in;
    changed.mobile = "9000000001";
    changed.pan = "ZZZPZ9999Z";
    changed.email = "someone.else@example.org";
    changed.first_name = "Meenakshi";
    changed.date_of_birth = "1970-03-04";
    std::vector<AuditEntry> all = diff_audit(nullptr, in, "created");
    for (auto& a : diff_audit(&in, changed, "updated")) all.push_back(a);
    std::vector<std::string> secrets = raw_pii(in);
    for (const auto& s : raw_pii(changed)) secrets.push_back(s);
    for (const auto& a : all) {
      SCOPED_TRACE(a.field);
      for (const auto& secret : secrets) {
        if (secret.size() < 4) continue;
        EXPECT_THAT(a.old_value, Not(HasSubstr(secret)));
        EXPECT_THAT(a.new_value, Not(HasSubstr(secret)));
      }
    }
  }
}

TEST(DiffAudit, MaskedValuesRecorded) {
  const auto entries = diff_audit(nullptr, full_lead(), "created");
  std::map<std::string, AuditEntry> by_field;
  for (const auto& a : entries) by_field[a.field] = a;
  EXPECT_EQ(by_field["mobile"].new_value, "98XXXXXX10");
  EXPECT_EQ(by_field["pan"].new_value, "ABXXXXXX4F");
  EXPECT_EQ(by_field["dateOfBirth"].new_value, "XXXX-XX-XX");
  EXPECT_EQ(by_field["loanType"].new_value, "HL");
}

TEST(DiffAudit, UnchangedLeadHasNoEntries) {
  const LeadInput in = full_lead();
  EXPECT_TRUE(diff_audit(&in, full_lead(), "updated").empty());
}

TEST(DiffAudit, ListsExactlyTheChangedFields) {
  const LeadInput before = full_lead();
  LeadInput after = before;
  after.mobile = "9000000001";
  after.loan_amount_req = 5'000'000;
  after.remarks.reset();
  after.is_lead_prefilled = false;
  after.state = "Kerala";
  const auto entries = diff_audit(&before, after, "updated");
  std::map<std::string, AuditEntry> by_field;
  for (const auto& a : entries) by_field[a.field] = a;
  ASSERT_EQ(entries.size(), 5u);
  ASSERT_EQ(by_field.size(), 5u);
  EXPECT_EQ(by_field["mobile"].old_value, "98XXXXXX10");
  EXPECT_EQ(by_field["mobile"].new_value, "90XXXXXX01");
  EXPECT_EQ(by_field["loanAmountReq"].old_value, "4500000");
  EXPECT_EQ(by_field["loanAmountReq"].new_value, "5000000");
  EXPECT_EQ(by_field["remarks"].old_value, mask_generic("Wants a callback on Saturday"));
  EXPECT_EQ(by_field["remarks"].new_value, "");
  EXPECT_EQ(by_field["isLeadPrefilled"].old_value, "true");
  EXPECT_EQ(by_field["isLeadPrefilled"].new_value, "false");
  EXPECT_EQ(by_field["state"].old_value, "Karnataka");
  EXPECT_EQ(by_field["state"].new_value, "Kerala");
  for (const auto& a : entries) {
    EXPECT_EQ(a.operation, "updated");
    EXPECT_EQ(a.environment, "orbit");
  }
}

TEST(DiffAudit, ChangeHiddenByMaskIsStillRecorded) {
  // Same mask, different value: the comparison is on the plain value.
  const LeadInput before = full_lead();
  LeadInput after = before;
  after.mobile = "9812345610";  // masks to 98XXXXXX10 like 9876543210
  const auto entries = diff_audit(&before, after, "updated");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].field, "mobile");
  EXPECT_EQ(entries[0].old_value, entries[0].new_value);
}

TEST(DiffAudit, AbsentAndBlankOptionalAreTheSame) {
  LeadInput before = minimal_lead();
  LeadInput after = before;
  after.remarks = "";
  EXPECT_TRUE(diff_audit(&before, after, "updated").empty());
}

}  // namespace
}  // namespace leadgate
